/**
 * Suites that need a peer program (a DHCP or TFTP client, tcpdump) or root say so here. On a
 * developer machine a missing peer skips the suite and the run ends with one loud summary line
 * naming the install command (test/lan/global-setup.ts); with CI=true a missing peer fails.
 */
import { accessSync, appendFileSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { skipLogFile } from './skip-log.js';

export const installCommand = 'npm run peers';

export function hasCommand(command: string): boolean {
  if (command.includes('/')) return canExecute(command);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && canExecute(join(dir, command)));
}

function canExecute(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const isRoot = process.getuid?.() === 0;
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

export interface PeerCheck {
  /** True when the suite cannot run here; pass to describe.skipIf. */
  skip: boolean;
  missing: string[];
}

/**
 * Check that the commands exist (and root, for namespaces). Under CI a missing peer throws, which
 * fails the test file instead of skipping it.
 */
export function needPeers(suite: string, commands: readonly string[], options: { root?: boolean; ci?: boolean; skipLog?: string } = {}): PeerCheck {
  const missing = commands.filter((c) => !hasCommand(c));
  if (options.root && !isRoot) missing.push('root (network namespaces)');
  if (missing.length === 0) return { skip: false, missing };
  const line = `${suite}: missing ${missing.join(', ')}`;
  if (options.ci ?? inCI) {
    throw new Error(`CI=true and a peer is missing, so this is a failure, not a skip: ${line} (install: ${installCommand})`);
  }
  appendFileSync(options.skipLog ?? skipLogFile, `${line}\n`);
  return { skip: true, missing };
}
