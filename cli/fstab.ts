/** `be fstab NAME [--server IP]`: the guest's /etc/fstab for the BE's nested datasets over NFS. */
import type { Command } from 'commander';
import { configFrom } from './common.js';

export function register(program: Command): void {
  program
    .command('fstab')
    .description("print the guest's /etc/fstab: one NFS line per nested dataset, parents first")
    .argument('<name>', 'the boot environment (mounted)')
    .option('--server <ip>', 'NFS server address (default server.address)')
    .action(async (name: string, options: { server?: string }, command: Command) => {
      const [{ config }, { BeOps }] = await Promise.all([configFrom(command), import('../services/be/ops.js')]);
      process.stdout.write(await (await BeOps.open(config)).fstab(name, options.server ?? null));
    });
}
