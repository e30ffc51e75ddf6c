/** `be mount NAME [DIR]`: mount the BE, then its children in mountpoint order (as rc.d/zfsbe does). */
import type { Command } from 'commander';
import { configFrom } from './common.js';

export function register(program: Command): void {
  program
    .command('mount')
    .description('mount a boot environment and its nested datasets under DIR (default be.mountDir/NAME)')
    .argument('<name>', 'the boot environment')
    .argument('[dir]', 'where to mount it')
    .action(async (name: string, dir: string | undefined, _options: unknown, command: Command) => {
      const [{ config }, { BeOps }, { refreshAppliance }] = await Promise.all([
        configFrom(command),
        import('../services/be/ops.js'),
        import('../services/boot/pxe.js'),
      ]);
      const be = await (await BeOps.open(config)).mount(name, dir);
      // A running be serve answers root-paths and boot/ from where BEs are mounted now.
      await refreshAppliance(config).catch((err: Error) =>
        process.stderr.write(`be: warning: be serve did not re-read the boot environments: ${err.message}\n`),
      );
      const mounted = be.datasets.filter((d) => d.path !== null).length;
      process.stdout.write(`${name} mounted at ${be.datasets[0]!.path} (${mounted} dataset${mounted === 1 ? '' : 's'})\n`);
    });
}
