/**
 * `be bootnfs NAME --vm VM ...`: boot a bhyve guest whose root file system is the boot environment,
 * over NFS (the talk's bhyveload -h /ROOT/head -e boot.nfsroot.* ... then bhyve).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { GuestFlags } from '../src/bhyve/settings.js';
import { configFrom, integer } from './common.js';

interface Options extends GuestFlags {
  host?: string;
  server?: string;
  dryRun?: boolean;
  json?: boolean;
}

function text(pattern: RegExp, what: string): (value: string) => string {
  return (value) => {
    if (!pattern.test(value)) throw new InvalidArgumentError(`expected ${what}`);
    return value;
  };
}

export function register(program: Command): void {
  program
    .command('bootnfs')
    .description('boot a bhyve guest with the boot environment as its NFS root (mounts and shares it first)')
    .argument('<name>', 'the boot environment')
    .option('--vm <name>', 'the VM name (default: the host name)')
    .option('--host <name>', 'take the guest settings from this host in hosts[] (default: the bhyve host assigned to NAME)')
    .option('--mac <mac>', "the guest NIC's MAC (boot.netif.hwaddr and bhyve's mac=)")
    .option('--ip <address>', "the guest's address (boot.netif.ip)")
    .option('--netmask <mask>', 'the guest netmask (default: bhyve.netmask, else from nfs.network)')
    .option('--gateway <address>', 'the guest gateway')
    .option('--memory <size>', 'guest memory, e.g. 512M or 2G (bhyve.memory)', text(/^\d+[KMGT]?$/i, 'a size such as 512M or 2G'))
    .option('--cpus <n>', 'virtual CPUs (bhyve.cpus)', integer(1, 256))
    .option('--tap <ifname>', 'the tap interface of the guest NIC')
    .option('--bridge <ifname>', 'create the tap and add it to this bridge (bhyve.bridge)')
    .option('--console <dev>', 'stdio or /dev/nmdmNA (bhyve.console)', text(/^(stdio|\/dev\/nmdm\d+[AB])$/, 'stdio or /dev/nmdmNA'))
    .option('--server <ip>', 'the NFS server the guest mounts (default server.address)')
    .option('--dry-run', 'print the commands (and the handle) without changing anything')
    .option('--json', 'with --dry-run: print JSON')
    .action(async (name: string, options: Options, command: Command) => {
      const [
        { config },
        { BeError },
        { requireHost },
        { resolveGuestSettings },
        { GuestError, guestEnvironment, bhyveArgv, bhyveloadArgv },
        prepare,
        { shellCommand },
        { BeOps },
      ] = await Promise.all([
        configFrom(command),
        import('../src/errors.js'),
        import('../src/boot/assignments.js'),
        import('../src/bhyve/settings.js'),
        import('../src/bhyve/guest.js'),
        import('../services/bhyve/prepare.js'),
        import('../src/shell.js'),
        import('../services/be/ops.js'),
      ]);
      // The boot environment first: "no VM name" for a BE that does not exist would send the user the wrong way.
      await (await BeOps.open(config)).find(name);
      let host = options.host === undefined ? undefined : requireHost(config, options.host);
      if (!host) {
        const assigned = config.hosts.filter((h) => h.boot === 'bhyve' && h.be === name);
        if (assigned.length === 1) host = assigned[0];
      }
      let settings;
      try {
        settings = resolveGuestSettings(config, name, host, options);
      } catch (err) {
        if (err instanceof GuestError) throw new BeError('E_USAGE', err.message);
        throw err;
      }
      const prepared = await prepare.prepareGuest(config, settings, { dryRun: options.dryRun === true, ...(options.server ? { server: options.server } : {}) });
      const destroy = ['bhyvectl', `--vm=${prepared.spec.vm}`, '--destroy'];
      if (options.dryRun) {
        const commands = [destroy, ...prepared.network, bhyveloadArgv(prepared.spec), bhyveArgv(prepared.spec), destroy];
        if (options.json) {
          const out = {
            vm: prepared.spec.vm,
            be: name,
            release: prepared.release.text,
            nfsVersion: prepared.spec.nfsVersion,
            env: Object.fromEntries(guestEnvironment(prepared.spec)),
            commands,
          };
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        } else process.stdout.write(`${commands.map(shellCommand).join('\n')}\n`);
        return;
      }
      const [{ runGuest }, { createLogger }] = await Promise.all([import('../services/bhyve/launch.js'), import('../services/log.js')]);
      await prepare.setUpNetwork(prepared);
      const log = createLogger({ level: config.log.level, destination: process.stderr });
      const controller = new AbortController();
      const stop = () => controller.abort();
      // on, not once: execa's signal-exit re-raises a signal when no other listener is left, and once removes ours before it runs.
      process.on('SIGTERM', stop).on('SIGINT', stop);
      try {
        const result = await runGuest(prepared.spec, { log, signal: controller.signal, interactive: prepared.spec.console === 'stdio' });
        if (!['powered-off', 'halted', 'stopped'].includes(result.outcome)) {
          throw new BeError('E_EXEC', `guest ${prepared.spec.vm} ended: ${result.outcome} (status ${result.status ?? 'none'}) after ${result.boots} boot(s)`);
        }
      } finally {
        process.off('SIGTERM', stop).off('SIGINT', stop);
      }
    });
}
