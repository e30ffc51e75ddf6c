/** `be destroy [-f] NAME`: refused while the BE is shared or assigned to a host, unless -f. */
import type { Command } from 'commander';
import { configFrom } from './common.js';

export function register(program: Command): void {
  program
    .command('destroy')
    .description('destroy a boot environment and its datasets; refused while shared or assigned unless -f')
    .argument('<name>', 'the boot environment')
    .option('-f, --force', 'destroy even while shared (it is unshared first) or assigned in hosts[]')
    .action(async (name: string, options: { force?: boolean }, command: Command) => {
      const [{ config }, { BeOps }] = await Promise.all([configFrom(command), import('../services/be/ops.js')]);
      await (await BeOps.open(config)).destroy(name, options.force === true);
      process.stdout.write(`${name} destroyed\n`);
    });
}
