/**
 * `be jail NAME [-o PARAM=VALUE]... [--keep] [-- COMMAND...]`, modelled on `bectl jail`: mount the BE
 * with its nested datasets, make a jail on it (bectl's parameters plus -o), run COMMAND (default
 * /bin/sh) in it with jexec on this terminal, then remove the jail and unmount what be mounted, on every
 * exit path, unless --keep. The exit status is the command's.
 */
import type { Command } from 'commander';
import { collect, configFrom } from './common.js';

interface Options {
  option: string[];
  keep?: boolean;
}

export function register(program: Command): void {
  program
    .command('jail')
    .description('run a command (default /bin/sh) in a jail on a boot environment, as bectl jail does; the jail is removed after, unless --keep')
    .argument('<name>', 'the boot environment (mounted with its nested datasets if it is not)')
    .argument('[command...]', 'what to run in the jail, after --: its exit status is be’s')
    .option(
      '-o, --option <param=value>',
      'a jail(8) parameter, e.g. ip4=inherit, osrelease=12.4-RELEASE (repeatable; command, exec.start and persist are refused)',
      collect,
      [],
    )
    .option('--keep', 'leave the jail (and the mounts) in place when the command ends')
    .action(async (name: string, command: string[], options: Options, cmd: Command) => {
      const [{ config }, { BeError }, { constants }, runners] = await Promise.all([
        configFrom(cmd),
        import('../src/errors.js'),
        import('node:os'),
        import('../services/hunt/runners.js'),
      ]);
      const argv = command.length > 0 ? command : ['/bin/sh'];
      // -o refusals and a missing BE are reported before anything is mounted.
      runners.jailSpecFor({ be: name, root: '/', parameters: options.option });
      const mounted = await runners.mountForRun(config, name);

      const controller = new AbortController();
      // On a terminal the command shares our foreground process group, so ^C reaches it too: the shell
      // in the jail decides what SIGINT means, and only SIGTERM ends the jail. Otherwise (a pipe, a
      // script, kill -INT) SIGINT stops the command and cleans up. 128 + the signal, as a shell reports it.
      const onTerminal = process.stdin.isTTY === true;
      const stop = (signal: NodeJS.Signals) => {
        if (signal === 'SIGINT' && onTerminal) return;
        controller.abort(new BeError('E_EXEC', `interrupted by ${signal}`, 128 + constants.signals[signal]));
      };
      // on, not once: execa's signal-exit re-raises a signal when no other listener is left, and once removes ours before it runs.
      process.on('SIGINT', stop).on('SIGTERM', stop);
      let result: Awaited<ReturnType<typeof runners.runInJail>>;
      try {
        result = await runners.runInJail(
          {
            config,
            be: name,
            root: mounted.root,
            command: argv,
            timeoutMs: 0,
            parameters: options.option,
            interactive: true,
            signal: controller.signal,
          },
          { keep: options.keep === true, warn: (line) => process.stderr.write(`be: warning: ${line}\n`) },
        );
      } finally {
        process.off('SIGINT', stop).off('SIGTERM', stop);
        if (!options.keep) {
          await mounted.release().catch((err: Error) => process.stderr.write(`be: warning: ${name} stays mounted at ${mounted.root}: ${err.message}\n`));
        }
      }
      if (controller.signal.aborted) throw controller.signal.reason;
      if (options.keep && result.outcome.kind !== 'failed') {
        process.stderr.write(`be: jail ${result.jail} kept (--keep): jexec ${result.jail} /bin/sh to enter it, jail -r ${result.jail} to remove it\n`);
      }
      const { outcome } = result;
      if (outcome.kind === 'exited') {
        // The command's status is ours, without a line of our own: it spoke for itself.
        process.exitCode = outcome.exitCode;
        return;
      }
      if (outcome.kind === 'timeout') throw new BeError('E_EXEC', `jail ${result.jail}: ${argv.join(' ')} timed out`);
      const signal = /^killed by (SIG[A-Z0-9]+)$/.exec(outcome.reason)?.[1] as NodeJS.Signals | undefined;
      const status = signal && constants.signals[signal] ? 128 + constants.signals[signal] : 1;
      throw new BeError('E_EXEC', `jail ${result.jail}: ${signal ? `${argv.join(' ')} ${outcome.reason}` : outcome.reason}`, status);
    });
}
