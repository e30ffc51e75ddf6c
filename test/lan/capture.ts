/** tcpdump inside a test host's namespace, read back as frames (test/lan/pcap.ts). */
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

/** Starts tcpdump on the host's interface and resolves once it is listening. */
export async function startCapture(lan: Lan, host: string, filter: string, count: number): Promise<Capture> {
  const dir = mkdtempSync(join(tmpdir(), 'be-capture-'));
  const file = join(dir, 'capture.pcap');
  const child = lan.spawn(host, ['tcpdump', '-i', lan.host(host).ifname, '-n', '-U', '-c', String(count), '-w', file, filter]);
  const err = new LineWatcher(child.stderr);
  await err.next(/listening on/);
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
