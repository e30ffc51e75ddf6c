/** `be status [HOST] [--json]`: the running appliance, or one machine's network boot step by step. */
import type { Command } from 'commander';
import type { ApplianceStatus } from '../services/appliance.js';
import type { Timeline } from '../src/boot/timeline.js';
import { configFrom } from './common.js';

export function register(program: Command): void {
  program
    .command('status')
    .description('show the running appliance, or with HOST (a name from hosts[] or a MAC) the steps of its last network boot')
    .argument('[host]', 'a host name or MAC address')
    .option('--json', 'print JSON')
    .action(async (host: string | undefined, options: { json?: boolean }, command: Command) => {
      const [{ config }, { callAppliance }, { controlSocketPath }, { formatTimeline }, { normalizeMac, isMac }] = await Promise.all([
        configFrom(command),
        import('../services/control/client.js'),
        import('../services/control/server.js'),
        import('../src/boot/timeline.js'),
        import('../src/mac.js'),
      ]);
      const socket = controlSocketPath(config);
      if (host !== undefined) {
        const key = isMac(host) ? normalizeMac(host) : host;
        const timeline = (await callAppliance(socket, 'timeline.get', { host: key })) as Timeline | null;
        if (options.json) {
          process.stdout.write(`${JSON.stringify(timeline, null, 2)}\n`);
          return;
        }
        if (!timeline) {
          process.stdout.write(`${host}: no network boot seen since be serve started\n`);
          return;
        }
        const who = [timeline.host, timeline.mac, timeline.ip].filter(Boolean).join(' ');
        process.stdout.write(`${who}\n${formatTimeline(timeline).join('\n')}\n`);
        return;
      }
      const status = (await callAppliance(socket, 'status')) as ApplianceStatus;
      if (options.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        [
          `be ${status.version}, pid ${status.pid}, running since ${status.startedAt}`,
          `configuration: ${status.embedded ? `the embedded default (${status.config})` : status.config}`,
          `services: ${status.services.join(', ') || 'none'}`,
          '',
        ].join('\n'),
      );
    });
}
