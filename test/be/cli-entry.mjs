// The `be` program with the boot-environment commands of issue 5 registered, for tests until
// cli/main.ts registers them. Same one-line error and exit-status rules as cli/main.ts.
import { Command, CommanderError } from 'commander';
import { collect } from '../../dist/cli/common.js';
import { isBeError } from '../../dist/src/errors.js';

const names = ['list', 'create', 'mount', 'umount', 'destroy', 'sharenfs', 'unsharenfs', 'exports', 'fstab', 'nfshandle'];
const program = new Command('be')
  .option('-c, --config <file>', 'configuration file')
  .option('--set <key=value>', 'override a configuration key', collect, [])
  .exitOverride();
program.configureOutput({ outputError: (text, write) => write(text.split('\n')[0] + '\n') });
for (const name of names) (await import(`../../dist/cli/${name}.js`)).register(program);
for (const command of program.commands) command.exitOverride();
try {
  await program.parseAsync(process.argv);
  process.exitCode = 0;
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else if (isBeError(err)) {
    process.stderr.write(`be: ${err.message}\n`);
    process.exitCode = err.exitStatus;
  } else {
    process.stderr.write(`be: internal error: ${err?.message ?? String(err)}\n`);
    if (process.env.BE_DEBUG) process.stderr.write(`${err?.stack}\n`);
    process.exitCode = 1;
  }
}
