/** `be serve`: run the appliance's services in one supervised process. */
import type { Command } from 'commander';
import { configFrom, packageVersion } from './common.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the enabled services (SIGTERM/SIGINT stop, SIGHUP re-reads the configuration)')
    .option('--only <services>', 'run only these services, comma-separated (e.g. tftp,dhcp)')
    .action(async (options: { only?: string }, command: Command) => {
      const [loaded, { BeError }, { createLogger }, { serviceKinds }, { Supervisor }, { registerApplianceCommands }] = await Promise.all([
        configFrom(command),
        import('../src/errors.js'),
        import('../services/log.js'),
        import('../services/registry.js'),
        import('../services/supervisor.js'),
        import('../services/appliance.js'),
      ]);
      const log = createLogger({ level: loaded.config.log.level });
      const only = options.only
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const supervisor = new Supervisor(serviceKinds, log, only, packageVersion());
      log.info({ config: loaded.file, version: packageVersion() }, 'be serve starting');

      // Nothing else may keep the loop alive when no service is enabled; this timer does until stop.
      const keepAlive = setInterval(() => {}, 1 << 30);
      const stop = (signal: string) => {
        log.info({ signal }, 'stop requested');
        void supervisor.stop();
      };
      // SIGHUP, and `appliance.reload` from be sharepxe/bootpxe: re-read the file and the state.
      const reloadFrom = async (why: string) => {
        let next;
        try {
          next = (await configFrom(command)).config;
        } catch (err) {
          log.error({ err: (err as Error).message }, `${why}: configuration refused, keeping the running one`);
          throw err;
        }
        log.info(`${why}: reloading the configuration`);
        await supervisor.reload(next);
      };
      const reload = () => void reloadFrom('SIGHUP').catch(() => {});
      process.on('SIGTERM', stop).on('SIGINT', stop).on('SIGHUP', reload);
      registerApplianceCommands(supervisor, { configFile: loaded.file, version: packageVersion(), reload: () => reloadFrom('reload requested') });
      try {
        await supervisor.start(loaded.config);
        const failure = await supervisor.done;
        if (failure) throw failure instanceof BeError ? failure : new BeError('E_EXEC', failure.message);
      } finally {
        clearInterval(keepAlive);
        process.off('SIGTERM', stop).off('SIGINT', stop).off('SIGHUP', reload);
      }
    });
}
