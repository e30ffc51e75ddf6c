/** Runs the shipped `be` command, dist/bin/be.mjs (npm test builds it first). */
import { join } from 'node:path';
import { execa, type Options } from 'execa';
import { packageRoot } from '../../services/config.js';

/** Found from the package root, so this works from test/ (vitest) and from dist/test/ (bench). */
export const beMain = join(packageRoot(), 'dist', 'bin', 'be.mjs');

export function be(args: readonly string[], options: Options = {}) {
  return execa('node', [beMain, ...args], { reject: false, stdin: 'ignore', timeout: 60_000, ...options });
}
