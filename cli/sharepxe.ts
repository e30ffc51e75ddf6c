/** `be sharepxe NAME [--host H]`: make a boot environment bootable over PXE, optionally for a host. */
import type { Command } from 'commander';
import { configFrom } from './common.js';

export function register(program: Command): void {
  program
    .command('sharepxe')
    .description('make a boot environment PXE-bootable: mount it, share it over NFS, serve its boot/ over TFTP')
    .argument('<name>', 'the boot environment')
    .option('--host <name>', 'also assign this host (from hosts[]) to it, as be bootpxe does')
    .action(async (name: string, options: { host?: string }, command: Command) => {
      const [{ config }, pxe] = await Promise.all([configFrom(command), import('../services/boot/pxe.js')]);
      const shared = await pxe.sharePxe(config, name);
      if (shared.exportsNotRunning) process.stderr.write(`be: warning: ${shared.exportsNotRunning}\n`);
      if (options.host !== undefined) await pxe.assignHost(config, options.host, name);
      const live = await pxe.reloadAppliance(config, (line) => process.stderr.write(`be: warning: ${line}\n`));
      process.stdout.write(
        [
          `${name} is PXE-bootable: ${shared.loaders.join(', ')} under ${shared.path}`,
          ...(options.host !== undefined ? [`${options.host} boots ${name}`] : []),
          live ? 'the running appliance reloaded' : 'be serve is not running: this takes effect when it starts',
          '',
        ].join('\n'),
      );
    });
}
