/** tcpdump in a test namespace (a host's interface, or the bridge in the switch namespace), read back as frames (test/lan/pcap.ts). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineWatcher } from './lines.js';
import type { Lan } from './netns.js';
import { readPcap, type Frame } from './pcap.js';

export interface Capture {
  /** Resolves once tcpdump has seen `count` frames (or timed out) and exited. */
  frames(timeoutMs?: number): Promise<Frame[]>;
}

/** Where to listen: a host of the LAN by name (its interface), or any of the LAN's namespaces and an interface in it. */
export type CapturePoint = string | { ns: string; ifname: string };

/** The bridge itself: it sees every frame that crosses the LAN, whoever sent it (a QEMU guest on a tap too). */
export const onBridge = (lan: Lan): CapturePoint => ({ ns: lan.switchNs, ifname: 'br0' });

/**
 * Starts tcpdump and resolves once it is listening. The LAN tracks it (Lan.spawnIn): if a test fails
 * before frames(), Lan.close() ends it by its PID.
 */
export async function startCapture(lan: Lan, at: CapturePoint, filter: string, count: number): Promise<Capture> {
  const { ns, ifname } = typeof at === 'string' ? lan.host(at) : at;
  const dir = mkdtempSync(join(tmpdir(), 'be-capture-'));
  const file = join(dir, 'capture.pcap');
  const child = lan.spawnIn(ns, ['tcpdump', '-i', ifname, '-n', '-U', '-c', String(count), '-w', file, filter]);
  const err = new LineWatcher(child.stderr);
  try {
    await err.next(/listening on/);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    async frames(timeoutMs = 10_000) {
      const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
      try {
        await child;
        return readPcap(readFileSync(file));
      } finally {
        clearTimeout(timer);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
