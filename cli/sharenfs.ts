/** `be sharenfs [--fstab] NAME`: export the BE (one line per dataset) and reload the NFS server. */
import type { Command } from 'commander';
import { configFrom, exportsLine } from './common.js';

export function register(program: Command): void {
  program
    .command('sharenfs')
    .description('export a boot environment over NFS: rewrite nfs.exportsFile and reload the NFS server')
    .argument('<name>', 'the boot environment (mounted)')
    .option('--fstab', "also write the guest's etc/fstab for the nested datasets (the old one is kept as etc/fstab.orig)")
    .option('--server <ip>', 'NFS server address for --fstab (default server.address)')
    .option('--force', 'allow maproot=root to 0.0.0.0/0')
    .action(async (name: string, options: { fstab?: boolean; server?: string; force?: boolean }, command: Command) => {
      const [{ config }, { BeOps }] = await Promise.all([configFrom(command), import('../services/be/ops.js')]);
      const outcome = await (await BeOps.open(config)).share(name, {
        ...(options.force ? { force: true } : {}),
        ...(options.fstab ? { fstab: options.server ?? null } : {}),
      });
      for (const problem of outcome.problems) process.stderr.write(`be: warning: ${problem}\n`);
      process.stdout.write(`${name} shared: ${exportsLine(config.nfs.exportsFile, outcome)}\n`);
      if (outcome.fstab) process.stdout.write(`guest fstab written to ${outcome.fstab}\n`);
    });
}
