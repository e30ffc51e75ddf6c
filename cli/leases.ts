/** `be leases [--json]`: the DHCP leases as the journal records them (what a restarted server would know). */
import type { Command } from 'commander';
import { configFrom } from './common.js';

/** `now` is the clock the journal is replayed against (what is still bound or declined); tests fix it. */
export function register(program: Command, { now = Date.now }: { now?: () => number } = {}): void {
  program
    .command('leases')
    .description('list the DHCP leases recorded in the lease journal (dhcp.leaseFile)')
    .option('--json', 'print a JSON array instead of a table')
    .option('--file <journal>', 'read this journal instead of dhcp.leaseFile')
    .action(async (options: { json?: boolean; file?: string }, command: Command) => {
      const [{ readFileSync }, { BeError }, { leaseRows, formatLeaseRows }] = await Promise.all([
        import('node:fs'),
        import('../src/errors.js'),
        import('../src/dhcp/report.js'),
      ]);
      const file = options.file ?? (await configFrom(command)).config.dhcp.leaseFile;
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') throw new BeError('E_USAGE', `${file}: cannot read the lease journal: ${code ?? (err as Error).message}`);
      }
      const rows = leaseRows(text, now());
      if (options.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else process.stdout.write(rows.length === 0 ? `no leases in ${file}\n` : formatLeaseRows(rows));
    });
}
