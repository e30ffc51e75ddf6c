/**
 * Vitest global setup: removes namespaces orphaned by a killed earlier run, and at the end prints one
 * loud line when suites were skipped for a missing peer.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

export default async function setup(): Promise<() => Promise<void>> {
  process.env.BE_TEST_RUN_ID = randomUUID();
  if (process.getuid?.() === 0) {
    const { deleteOrphanNamespaces } = await import('./netns.js');
    deleteOrphanNamespaces();
  }
  return async () => {
    const { skipLogFile } = await import('./skip-log.js');
    if (!existsSync(skipLogFile)) return;
    const lines = [...new Set(readFileSync(skipLogFile, 'utf8').split('\n').filter(Boolean))];
    rmSync(skipLogFile, { force: true });
    if (lines.length === 0) return;
    const { installCommand } = await import('./peers.js');
    process.stderr.write(`\n!!! SKIPPED ${lines.length} suite(s) for missing peers: ${lines.join('; ')}. Install them with: ${installCommand} (as root)\n`);
  };
}
