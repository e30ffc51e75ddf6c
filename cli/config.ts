/** `be config check` and `be config show [--json | --comments]`. */
import type { Command } from 'commander';
import { configFrom } from './common.js';

export function register(program: Command): void {
  const config = program.command('config').description('check or show the effective configuration');
  config
    .command('check')
    .description('validate the configuration and exit 0, or print the first problem and exit 2')
    .action(async (_options, command: Command) => {
      const { file } = await configFrom(command);
      process.stdout.write(`${file}: configuration is valid\n`);
    });
  config
    .command('show')
    .description('print the effective configuration (file, defaults and --set overrides)')
    .option('--json', 'print JSON instead of YAML')
    .option('--comments', 'put each key’s description from be.yaml(5) above it, and its default where the value differs')
    .action(async (options: { json?: boolean; comments?: boolean }, command: Command) => {
      if (options.json && options.comments) {
        const { BeError } = await import('../src/errors.js');
        throw new BeError('E_USAGE', '--comments is for YAML: JSON has no comments');
      }
      const [{ config: effective, file }, { renderConfig }] = await Promise.all([configFrom(command), import('../src/config/show.js')]);
      process.stdout.write(renderConfig(effective, file, options.json ? 'json' : 'yaml', { comments: options.comments === true }));
    });
}
