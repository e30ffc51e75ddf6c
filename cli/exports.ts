/** `be exports [--format freebsd|linux|ganesha]`: print what would be written to nfs.exportsFile. */
import { InvalidArgumentError, type Command } from 'commander';
import { configFrom } from './common.js';

type Format = 'freebsd' | 'linux' | 'ganesha';

function format(text: string): Format {
  if (text !== 'freebsd' && text !== 'linux' && text !== 'ganesha') throw new InvalidArgumentError('expected freebsd, linux or ganesha');
  return text;
}

export function register(program: Command): void {
  program
    .command('exports')
    .description('print the exports file be would write for the shared boot environments (nothing is written)')
    .option('--format <format>', 'freebsd, linux or ganesha (default nfs.format)', format)
    .option('--force', 'allow maproot=root to 0.0.0.0/0')
    .action(async (options: { format?: Format; force?: boolean }, command: Command) => {
      const [{ config }, { BeOps }] = await Promise.all([configFrom(command), import('../services/be/ops.js')]);
      const { text, problems } = await (await BeOps.open(config)).exports(options.format, options.force === true);
      for (const problem of problems) process.stderr.write(`be: warning: ${problem}\n`);
      process.stdout.write(text);
    });
}
