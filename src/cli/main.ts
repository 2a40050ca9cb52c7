#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { backendNames, kernels } from '../kernels/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string; description: string };

const program = new Command()
  .name('bptt')
  .description(pkg.description)
  .version(pkg.version)
  .showHelpAfterError();

program
  .command('info')
  .description('print the version, the active numeric backend and the available ones')
  .action(() => {
    console.log(`bptt ${pkg.version}`);
    console.log(`node ${process.version}`);
    console.log(`backend ${kernels().name} (available: ${backendNames().join(', ')})`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`bptt: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
