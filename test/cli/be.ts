/** Runs the compiled `be` command (npm test builds dist/ first). */
import { execa, type Options } from 'execa';
import { fileURLToPath } from 'node:url';

export const beMain = fileURLToPath(new URL('../../dist/bin/be.mjs', import.meta.url));

export function be(args: readonly string[], options: Options = {}) {
  return execa('node', [beMain, ...args], { reject: false, stdin: 'ignore', timeout: 60_000, ...options });
}
