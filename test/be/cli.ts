/** Runs the compiled boot-environment commands through test/be/cli-entry.mjs (npm test builds dist/ first). */
import { execa, type Options } from 'execa';
import { fileURLToPath } from 'node:url';

export const entry = fileURLToPath(new URL('./cli-entry.mjs', import.meta.url));

export function beCli(args: readonly string[], options: Options = {}) {
  return execa('node', [entry, ...args], { reject: false, stdin: 'ignore', timeout: 60_000, stripFinalNewline: false, ...options });
}
