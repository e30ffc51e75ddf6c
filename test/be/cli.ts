/** Runs the shipped `be` command (dist/bin/be.mjs) with the output kept exactly, final newline included. */
import { execa, type Options } from 'execa';
import { beMain } from '../cli/be.js';

export const entry = beMain;

export function beCli(args: readonly string[], options: Options = {}) {
  return execa('node', [beMain, ...args], { reject: false, stdin: 'ignore', timeout: 60_000, stripFinalNewline: false, ...options });
}
