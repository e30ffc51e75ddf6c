/** `be list [--json]`: boot environments, their datasets and paths, shared or not, hosts assigned. */
import type { Command } from 'commander';
import { configFrom } from './common.js';

export function register(program: Command): void {
  program
    .command('list')
    .description('list boot environments: datasets, where they are mounted, shared over NFS, hosts assigned')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const [{ config }, { BeOps }] = await Promise.all([configFrom(command), import('../services/be/ops.js')]);
      const list = await (await BeOps.open(config)).list();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      if (list.length === 0) {
        process.stdout.write(`no boot environments in ${config.be.root}\n`);
        return;
      }
      const lines: string[] = [];
      for (const be of list) {
        lines.push(`${be.name}\t${be.release ?? 'no release'}\t${be.shared ? 'shared' : 'not shared'}\thosts: ${be.hosts.join(',') || '-'}\t${be.source}`);
        for (const d of be.datasets) lines.push(`  ${d.guestPath}\t${d.path ?? '(not mounted)'}\t${d.name}${d.canmount === 'off' ? ' (canmount=off)' : ''}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
