/** `be unsharenfs NAME`: stop exporting the BE; rewrite the exports file and reload. */
import type { Command } from 'commander';
import { configFrom, exportsLine } from './common.js';

export function register(program: Command): void {
  program
    .command('unsharenfs')
    .description('stop exporting a boot environment: rewrite nfs.exportsFile and reload the NFS server')
    .argument('<name>', 'the boot environment')
    .action(async (name: string, _options: unknown, command: Command) => {
      const [{ config }, { BeOps }] = await Promise.all([configFrom(command), import('../services/be/ops.js')]);
      const outcome = await (await BeOps.open(config)).unshare(name);
      process.stdout.write(`${name} no longer shared: ${exportsLine(config.nfs.exportsFile, outcome)}\n`);
    });
}
