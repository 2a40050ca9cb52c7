import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string; description: string };

export const VERSION = pkg.version;
export const DESCRIPTION = pkg.description;
