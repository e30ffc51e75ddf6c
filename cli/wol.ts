/** `be wol TARGET...`: wake machines by MAC or by host name. */
import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../src/config/schema.js';
import { isIPv4 } from '../src/net.js';
import { configFrom, integer } from './common.js';

interface WolOptions {
  broadcast?: string;
  port?: number;
  count?: number;
  interval?: number;
  password?: string;
}

function address(text: string): string {
  if (!isIPv4(text)) throw new InvalidArgumentError('expected an IPv4 address such as 255.255.255.255 or 10.99.0.255');
  return text;
}

/**
 * Tell a running appliance, if there is one, that these machines were woken: the first step of their
 * boot timeline. Best effort: without an appliance this costs one failed connect.
 */
export async function reportWakeUps(config: Config, targets: readonly { mac: string }[]): Promise<void> {
  if (!config.server.control) return;
  const [{ callAppliance }, { controlSocketPath }] = await Promise.all([import('../services/control/client.js'), import('../services/control/server.js')]);
  for (const { mac } of targets) {
    try {
      await callAppliance(controlSocketPath(config), 'timeline.record', { step: 'wol', mac }, 1000);
    } catch {
      return; // no appliance: nothing to tell
    }
  }
}

export function register(program: Command): void {
  program
    .command('wol')
    .description('wake machines with a Wake-on-LAN magic packet')
    .argument('<target...>', 'MAC addresses (aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff, aabbccddeeff) or host names from hosts[]')
    .option('-b, --broadcast <address>', 'where to send: 255.255.255.255 or a directed broadcast such as 10.99.0.255 (wol.broadcast)', address)
    .option('-p, --port <port>', 'UDP port, usually 9 or 7 (wol.port)', integer(1, 65535))
    .option('-n, --count <n>', 'send each packet N times (wol.count)', integer(1, 100))
    .option('-i, --interval <ms>', 'milliseconds between repeats (wol.interval)', integer(0, 60_000))
    .option('--password <secureon>', 'SecureOn password: 4 bytes as a.b.c.d or 6 bytes as a MAC')
    .action(async (targets: string[], options: WolOptions, command: Command) => {
      const [{ config }, { BeError }, { parseSecureOnPassword }, { wakeTargets, wakeLine }] = await Promise.all([
        configFrom(command),
        import('../src/errors.js'),
        import('../src/wol/magic.js'),
        import('../services/wol.js'),
      ]);
      let password: Uint8Array | undefined;
      if (options.password !== undefined) {
        password = parseSecureOnPassword(options.password);
        if (!password) {
          throw new BeError(
            'E_USAGE',
            `--password ${JSON.stringify(options.password)}: a SecureOn password is 4 bytes (a.b.c.d) or 6 bytes (aa:bb:cc:dd:ee:ff)`,
          );
        }
      }
      const result = await wakeTargets(config, targets, (woken) => reportWakeUps(config, woken), {
        ...(options.broadcast !== undefined ? { address: options.broadcast } : {}),
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.count !== undefined ? { count: options.count } : {}),
        ...(options.interval !== undefined ? { intervalMs: options.interval } : {}),
        ...(password ? { password } : {}),
      });
      for (const target of result.targets) process.stdout.write(`${wakeLine(target, result)}\n`);
    });
}
