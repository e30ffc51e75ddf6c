/** `be umount NAME`: unmount the BE's children, then the BE. */
import type { Command } from 'commander';
import { configFrom } from './common.js';

export function register(program: Command): void {
  program
    .command('umount')
    .description('unmount a boot environment (children first); refused while it is shared unless -f')
    .argument('<name>', 'the boot environment')
    .option('-f, --force', 'unmount even while shared over NFS')
    .action(async (name: string, options: { force?: boolean }, command: Command) => {
      const [{ config }, { BeOps }] = await Promise.all([configFrom(command), import('../services/be/ops.js')]);
      await (await BeOps.open(config)).umount(name, options.force === true);
      process.stdout.write(`${name} unmounted\n`);
    });
}
