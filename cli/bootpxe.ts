/**
 * `be bootpxe NAME --host H [--wake] [--follow]`: assign a host to a boot environment, wake it, and
 * watch it boot: one progress line per step the appliance sees, until the kernel is served.
 */
import type { Command } from 'commander';
import type { Timeline } from '../src/boot/timeline.js';
import type { Config } from '../src/config/schema.js';
import { configFrom, integer } from './common.js';

interface Options {
  host: string;
  wake?: boolean;
  follow?: boolean;
  timeout: number;
}

export function register(program: Command): void {
  program
    .command('bootpxe')
    .description('boot a host from a boot environment over PXE: assign it, optionally wake it and follow its boot')
    .argument('<name>', 'the boot environment')
    .requiredOption('--host <name>', 'the host (from hosts[]) that boots it')
    .option('--wake', 'send it a Wake-on-LAN magic packet (wol.broadcast, wol.port)')
    .option('--follow', 'show the boot step by step until the kernel is served (needs be serve running)')
    .option('--timeout <seconds>', 'with --follow: give up after this long', integer(1, 3600), 300)
    .action(async (name: string, options: Options, command: Command) => {
      const [{ config }, pxe, { BeError }] = await Promise.all([configFrom(command), import('../services/boot/pxe.js'), import('../src/errors.js')]);
      const warn = (line: string) => process.stderr.write(`be: warning: ${line}\n`);
      // Steps already recorded belong to an earlier boot; --follow shows only what comes after now.
      let baseline = 0;
      const result = await pxe.bootPxe(config, options.host, name, async () => {
        const live = await pxe.reloadAppliance(config, warn);
        if (options.follow && live) baseline = await lastEventTime(config, options.host);
        return live;
      });
      if (result.shared) {
        if (result.shared.exportsNotRunning) warn(result.shared.exportsNotRunning);
        process.stdout.write(`${name} made PXE-bootable (${result.shared.loaders.join(', ')})\n`);
      }
      process.stdout.write(`${options.host} boots ${name}${result.live ? '' : ' (be serve is not running: this takes effect when it starts)'}\n`);
      if (options.follow && !result.live) throw new BeError('E_NOT_RUNNING', '--follow needs be serve running: nothing would see the boot');

      if (options.wake) {
        const [{ wakeTargets, wakeLine }, { reportWakeUps }] = await Promise.all([import('../services/wol.js'), import('./wol.js')]);
        const woken = await wakeTargets(config, [options.host], (targets) => reportWakeUps(config, targets));
        process.stdout.write(`${wakeLine(woken.targets[0]!, woken)}\n`);
      }
      if (options.follow) await follow(config, options.host, baseline, options.timeout * 1000);
    });
}

async function timelineOf(config: Config, host: string): Promise<Timeline | null> {
  const [{ callAppliance }, { controlSocketPath }] = await Promise.all([import('../services/control/client.js'), import('../services/control/server.js')]);
  return (await callAppliance(controlSocketPath(config), 'timeline.get', { host })) as Timeline | null;
}

async function lastEventTime(config: Config, host: string): Promise<number> {
  return (await timelineOf(config, host))?.events.at(-1)?.at ?? 0;
}

async function follow(config: Config, host: string, after: number, timeoutMs: number): Promise<void> {
  const [{ formatTimeline, stepLabels, bootSteps }, { BeError }] = await Promise.all([import('../src/boot/timeline.js'), import('../src/errors.js')]);
  const started = Date.now();
  let shown = 0;
  let last: Timeline | null = null;
  while (Date.now() - started < timeoutMs) {
    const timeline = await timelineOf(config, host);
    if (timeline) {
      const fresh = timeline.events.filter((e) => e.at > after);
      const lines = formatTimeline({ ...timeline, events: fresh });
      for (const line of lines.slice(shown)) process.stdout.write(`${host} ${line}\n`);
      shown = lines.length;
      last = { ...timeline, events: fresh };
      if (fresh.some((e) => e.step === 'kernel-fetched' || e.step === 'nfs-mount')) return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const step = last?.events.at(-1)?.step;
  const next = step ? bootSteps[bootSteps.indexOf(step) + 1] : 'firmware-dhcp';
  throw new BeError(
    'E_EXEC',
    `${host}: no kernel served after ${Math.round(timeoutMs / 1000)} s; ${step ? `last step: ${stepLabels[step]}` : 'nothing seen'}${next ? ` (waiting for: ${stepLabels[next]})` : ''}`,
  );
}
