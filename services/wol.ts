/** Sends Wake-on-LAN magic packets over UDP with broadcast enabled. The packet itself: src/wol/magic.ts. */
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../src/config/schema.js';
import { BeError } from '../src/errors.js';
import { parseMac } from '../src/mac.js';
import { encodeMagicPacket } from '../src/wol/magic.js';
import { resolveWakeTarget, type WakeTarget } from '../src/wol/targets.js';

export interface WakeOptions {
  /** Limited (255.255.255.255) or directed (10.99.0.255) broadcast, or a unicast address. */
  address: string;
  port: number;
  /** How many times each packet is sent. */
  count: number;
  /** Milliseconds between rounds. */
  intervalMs: number;
  signal?: AbortSignal;
}

const reasons: Record<string, string> = {
  ENETUNREACH: "network unreachable (no route to that address: use --broadcast with the LAN's directed broadcast address)",
  EACCES: 'permission denied (broadcast refused)',
  EHOSTUNREACH: 'host unreachable',
  EADDRNOTAVAIL: 'address not available',
};

/** Sends every packet `count` times; resolves with the number of datagrams sent. */
export async function sendMagicPackets(packets: readonly Uint8Array[], options: WakeOptions): Promise<number> {
  const socket = createSocket({ type: 'udp4' });
  let sent = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.setBroadcast(true);
    for (let round = 0; round < options.count; round++) {
      if (round > 0) await sleep(options.intervalMs, undefined, options.signal ? { signal: options.signal } : {});
      for (const packet of packets) {
        await new Promise<void>((resolve, reject) => socket.send(packet, options.port, options.address, (err) => (err ? reject(err) : resolve())));
        sent++;
      }
    }
    return sent;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ABORT_ERR') return sent;
    const why = reasons[code] ?? (err as Error).message;
    throw new BeError('E_NET', `cannot send to ${options.address}:${options.port}: ${why}`, undefined, { cause: err });
  } finally {
    socket.close();
  }
}

export interface WakeResult {
  targets: WakeTarget[];
  address: string;
  port: number;
}

/**
 * `be wol`, `be bootpxe --wake` and POST /api/hosts/NAME/wake: resolve the targets (MACs or hosts[]
 * names; a bad one refuses them all before anything is sent), send their magic packets as wol.* says
 * unless `overrides` say otherwise, then tell `report` about each machine woken (its boot timeline).
 */
export async function wakeTargets(
  config: Config,
  targets: readonly string[],
  report: (targets: readonly WakeTarget[]) => void | Promise<void>,
  overrides: Partial<Omit<WakeOptions, 'signal'>> & { password?: Uint8Array } = {},
): Promise<WakeResult> {
  const resolved = targets.map((target) => resolveWakeTarget(target, config.hosts));
  const packets = resolved.map((t) => encodeMagicPacket(parseMac(t.mac)!, overrides.password));
  const address = overrides.address ?? config.wol.broadcast;
  const port = overrides.port ?? config.wol.port;
  await sendMagicPackets(packets, { address, port, count: overrides.count ?? config.wol.count, intervalMs: overrides.intervalMs ?? config.wol.interval });
  await report(resolved);
  return { targets: resolved, address, port };
}

/** The line `be wol` prints for each machine woken. */
export function wakeLine(target: WakeTarget, result: WakeResult): string {
  return `magic packet for ${target.host ? `${target.host} (${target.mac})` : target.mac} via ${result.address}:${result.port}`;
}
