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
      const [{ config }, { BeOps }, { refreshAppliance }] = await Promise.all([
        configFrom(command),
        import('../services/be/ops.js'),
        import('../services/boot/pxe.js'),
      ]);
      await (await BeOps.open(config)).umount(name, options.force === true);
      await refreshAppliance(config).catch((err: Error) =>
        process.stderr.write(`be: warning: be serve did not re-read the boot environments: ${err.message}\n`),
      );
      process.stdout.write(`${name} unmounted\n`);
    });
}
