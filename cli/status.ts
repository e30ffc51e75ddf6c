/** `be status [--json]`: what the running appliance is doing. */
import type { Command } from 'commander';
import { configFrom } from './common.js';

export interface ApplianceStatus {
  pid: number;
  version: string;
  config: string;
  startedAt: string;
  services: string[];
  commands: string[];
}

export function register(program: Command): void {
  program
    .command('status')
    .description('show the running appliance: its services and the commands it answers')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const [{ config }, { callAppliance }, { controlSocketPath }] = await Promise.all([
        configFrom(command),
        import('../services/control/client.js'),
        import('../services/control/server.js'),
      ]);
      const status = (await callAppliance(controlSocketPath(config), 'status')) as ApplianceStatus;
      if (options.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        [
          `be ${status.version}, pid ${status.pid}, running since ${status.startedAt}`,
          `configuration: ${status.config}`,
          `services: ${status.services.join(', ') || 'none'}`,
          '',
        ].join('\n'),
      );
    });
}
