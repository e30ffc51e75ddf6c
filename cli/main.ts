#!/usr/bin/env node
/**
 * The `be` command: runs the program (cli/program.ts: each command lives in its own file) and turns every
 * failure into one line on stderr and an exit status: 2 for bad usage or configuration, 1 otherwise.
 */
import { CommanderError } from 'commander';
import { isBeError } from '../src/errors.js';
import { buildProgram } from './program.js';

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    // A command whose outcome is a status without an error line (be jail: the command's; be hunt: 1 when a release is bad) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its one-line message; help and --version are not failures.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (isBeError(err)) {
      process.stderr.write(`be: ${err.message}\n`);
      return err.exitStatus;
    }
    process.stderr.write(`be: internal error: ${(err as Error)?.message ?? String(err)}\n`);
    if (process.env.BE_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
