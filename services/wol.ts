/** Sends Wake-on-LAN magic packets over UDP with broadcast enabled. The packet itself: src/wol/magic.ts. */
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { BeError } from '../src/errors.js';

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
