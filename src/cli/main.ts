#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { backendNames, kernels } from '../kernels/index.js';
import { BpttError } from '../tensor/index.js';
import { trainForecastCommand } from './train-forecast.js';
import { trainLmCommand } from './train-lm.js';
import { trainG2PCommand, trainTranslateCommand } from './train-translate.js';
import { translateCommand } from './use-translate.js';
import { dataCommand } from './data-gettext.js';
import { trainSpeechCommand } from './train-speech.js';
import { transcribeCommand } from './transcribe.js';
import { forecastCommand } from './use-forecast.js';
import { exportCommand, importCommand } from './interop.js';
import { evalCommand, sampleCommand } from './use-lm.js';
import { nullsRestored } from './options.js';
import { DESCRIPTION, VERSION } from './version.js';

const program = new Command()
  .name('bptt')
  .description(DESCRIPTION)
  .version(VERSION)
  .option('--debug', 'print stack traces of errors')
  .showSuggestionAfterError()
  .exitOverride();

program
  .command('info')
  .description('print the version, the active numeric backend and the available ones')
  .action(() => {
    console.log(`bptt ${VERSION}`);
    console.log(`node ${process.version}`);
    console.log(`backend ${kernels().name} (available: ${backendNames().join(', ')})`);
  });

const lm = trainLmCommand();
program
  .command('train')
  .description('train a model (default task: lm, a language model on Moby Dick)')
  .addCommand(lm, { isDefault: true })
  .addCommand(trainForecastCommand())
  .addCommand(trainTranslateCommand())
  .addCommand(trainG2PCommand())
  .addCommand(trainSpeechCommand())
  .addHelpText('after', () => `\nThe default task, lm (bptt train = bptt train lm):\n\n${lm.helpInformation()}`);

program.addCommand(sampleCommand());
program.addCommand(evalCommand());
program.addCommand(forecastCommand());
program.addCommand(translateCommand());
program.addCommand(dataCommand());
program.addCommand(exportCommand());
program.addCommand(importCommand());
program.addCommand(transcribeCommand());

program.hook('preAction', nullsRestored);

// Every command shares the error policy: one line, exit code 1, the stack only with --debug.
for (const c of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) c.exitOverride().configureOutput({ outputError: (s, write) => write(s) });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode); // commander already printed its one-line message (or the help)
  const debug = process.argv.includes('--debug');
  if (debug && err instanceof Error) console.error(err.stack);
  else if (err instanceof BpttError) console.error(`bptt: ${err.message}`);
  else console.error(`bptt: internal error: ${err instanceof Error ? err.message : String(err)} (run with --debug for the stack trace)`);
  process.exit(1);
});
