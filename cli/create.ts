/** `be create [-l freebsd|flat] NAME`: a nested boot environment (the talk's layout) or a flat one. */
import { InvalidArgumentError, type Command } from 'commander';
import { configFrom } from './common.js';

function layout(text: string): 'freebsd' | 'flat' {
  if (text !== 'freebsd' && text !== 'flat') throw new InvalidArgumentError('expected freebsd (nested datasets) or flat (one dataset)');
  return text;
}

export function register(program: Command): void {
  program
    .command('create')
    .description('create a boot environment: -l freebsd (tmp, usr, usr/home, ..., var/log, ... as nested datasets) or -l flat')
    .argument('<name>', 'the boot environment, a child of be.root')
    .option('-l, --layout <layout>', 'freebsd or flat (default: freebsd with be.backend zfs, flat with dir)', layout)
    .action(async (name: string, options: { layout?: 'freebsd' | 'flat' }, command: Command) => {
      const [{ config }, { BeOps }] = await Promise.all([configFrom(command), import('../services/be/ops.js')]);
      const be = await (await BeOps.open(config)).create(name, options.layout);
      process.stdout.write(`created ${be.source} (${be.datasets.length} dataset${be.datasets.length === 1 ? '' : 's'})\n`);
    });
}
