import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command, Option } from 'commander';
import { checkSaved, integer, realOrNone, strategy } from '../../src/cli/options.js';
import { DataError } from '../../src/tensor/index.js';

describe('checkSaved: a manifest value checked by its option\'s parser', () => {
  const cmd = new Command('x')
    .option('--batch <n>', '', integer(1, 100), 16)
    .option('--clip <norm>', '', realOrNone(0), 5)
    .addOption(new Option('--bptt <s>').argParser(strategy))
    .addOption(new Option('--cell <cell>').choices(['lstm', 'gru']).default('lstm'))
    .option('--text <file>')
    .option('--no-calendar')
    .option('--stateless');
  const ok = (key: string, value: unknown): void => checkSaved(cmd, key, value, "checkpoint 'c'", `settings.${key}`);
  const fails = (key: string, value: unknown, message: string): void => {
    assert.throws(() => ok(key, value), (e: unknown) => e instanceof DataError && e.message === message);
  };

  test('values the command line could give pass', () => {
    const valid = [['batch', 100], ['clip', null], ['clip', 0.5], ['bptt', { kind: 'truncated', k1: 4, k2: 8 }],
      ['cell', 'gru'], ['text', 'a.txt'], ['calendar', false], ['text', undefined],
      ['stateless', null], ['stateless', true], ['text', null]] as const; // null: a flag the run did not set
    for (const [key, value] of valid) ok(key, value);
  });

  test('others are a DataError naming the field and what the option takes', () => {
    fails('batch', 1e6,
      "checkpoint 'c': meta.settings.batch: expected an integer in [1, 100], as --batch takes, got 1000000");
    fails('batch', '8', 'checkpoint \'c\': meta.settings.batch: expected 8 (the value of --batch 8), got "8"');
    fails('batch', undefined,
      "checkpoint 'c': meta.settings.batch: expected an integer in [1, 100], as --batch takes, got undefined");
    fails('clip', 'none', 'checkpoint \'c\': meta.settings.clip: expected null (the value of --clip none), got "none"');
    fails('bptt', { kind: 'truncated', k1: 4, k2: 8, extra: 1 }, 'checkpoint \'c\': meta.settings.bptt: '
      + 'expected {"kind":"truncated","k1":4,"k2":8} (the value of --bptt truncated:4:8), '
      + 'got {"kind":"truncated","k1":4,"k2":8,"extra":1}');
    fails('cell', 'rnn', "checkpoint 'c': meta.settings.cell: expected one of lstm, gru, as --cell takes, got \"rnn\"");
    fails('text', 3, "checkpoint 'c': meta.settings.text: expected a string, as --text takes, got 3");
    fails('stateless', 'yes', "checkpoint 'c': meta.settings.stateless: expected true or false, as --stateless takes, "
      + 'got "yes"');
    fails('calendar', 'no',
      "checkpoint 'c': meta.settings.calendar: expected true or false, as --no-calendar takes, got \"no\"");
  });
});
