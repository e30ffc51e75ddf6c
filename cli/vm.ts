/** `be vm list|start|stop`: the bhyve guests the running appliance supervises (its vmtab). */
import type { Command } from 'commander';
import type { GuestRow } from '../services/bhyve/vmtab.js';
import { configFrom } from './common.js';

async function call(command: Command, method: string, params: Record<string, unknown> = {}): Promise<unknown> {
  const [{ config }, { callAppliance }, { controlSocketPath }] = await Promise.all([
    configFrom(command),
    import('../services/control/client.js'),
    import('../services/control/server.js'),
  ]);
  return callAppliance(controlSocketPath(config), method, params, 120_000);
}

function describeRow(row: GuestRow): string {
  return `${row.vm}\t${row.state}\t${row.be ?? '-'}\tboots ${row.boots}\tsince ${row.since}${row.error ? `\t${row.error}` : ''}`;
}

export function register(program: Command): void {
  const vm = program.command('vm').description('list, start and stop the bhyve guests that be serve runs (hosts with boot: bhyve)');
  vm.command('list')
    .description('the guests and their states')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const rows = (await call(command, 'vm.list')) as GuestRow[];
      if (options.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else process.stdout.write(rows.length ? `${rows.map(describeRow).join('\n')}\n` : 'no guests (no host has boot: bhyve)\n');
    });
  for (const action of ['start', 'stop'] as const) {
    vm.command(action)
      .description(`${action} a guest by its VM name`)
      .argument('<name>', 'the VM name')
      .action(async (name: string, _options: unknown, command: Command) => {
        process.stdout.write(`${describeRow((await call(command, `vm.${action}`, { name })) as GuestRow)}\n`);
      });
  }
}
