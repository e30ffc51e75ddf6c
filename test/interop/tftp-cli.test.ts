/**
 * `be serve --only tftp` as an operator runs it: the compiled CLI (npm test builds dist/ first), a real
 * curl fetching from it, and the one-line failures for a missing root and a port already taken.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { be } from '../cli/be.js';
import { LineWatcher } from '../lan/lines.js';
import { needPeers } from '../lan/peers.js';

const peers = needPeers('tftp interop', ['curl']);
const dir = mkdtempSync(join(tmpdir(), 'be-tftp-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const common = ['--set', 'dhcp.enabled=false', '--set', 'tftp.address=127.0.0.1'];

async function udpSocket(port = 0): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', () => resolve()));
  return socket;
}

/** A port that was free a moment ago (the kernel's choice), for the CLI to bind. */
async function freePort(): Promise<number> {
  const socket = await udpSocket();
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe.skipIf(peers.skip)('be serve --only tftp', () => {
  it('serves a file to curl and stops cleanly on SIGTERM', async () => {
    const root = mkdtempSync(join(dir, 'root-'));
    const data = randomBytes(300_000);
    writeFileSync(join(root, 'loader.efi'), data);
    const port = await freePort();
    const child = be(['serve', '--only', 'tftp', ...common, '--set', `tftp.port=${port}`, '--set', `tftp.root=${root}`], { timeout: 60_000 });
    const out = new LineWatcher(child.stdout);
    try {
      await out.next(/appliance running: tftp/);
      const target = join(dir, 'fetched');
      const curl = await execa('curl', ['-sS', '--tftp-blksize', '1468', '-o', target, `tftp://127.0.0.1:${port}/loader.efi`], {
        reject: false,
        timeout: 30_000,
      });
      expect(curl.exitCode).toBe(0);
      expect(createHash('sha256').update(readFileSync(target)).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      const line = JSON.parse(await out.next(/transfer complete/));
      expect(line).toMatchObject({ svc: 'tftp', file: 'loader.efi', bytes: 300_000, blksize: 1468, windowsize: 1 });
      child.kill('SIGTERM');
      const result = await child;
      expect(result.exitCode).toBe(0);
      expect(String(result.stderr)).toBe('');
    } finally {
      if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses a missing tftp.root with one line and exit status 2', async () => {
    const missing = join(dir, 'no-such-root');
    const result = await be(['serve', '--only', 'tftp', ...common, '--set', `tftp.port=${await freePort()}`, '--set', `tftp.root=${missing}`]);
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr)).toBe(`be: tftp.root ${missing}: no such directory: create it or set tftp.root to the directory holding the boot files`);
  });

  it('names tftp.port and the fix when the port is taken (E_BIND), exit status 1', async () => {
    const holder = await udpSocket();
    try {
      const port = holder.address().port;
      const result = await be(['serve', '--only', 'tftp', ...common, '--set', `tftp.port=${port}`, '--set', `tftp.root=${dir}`]);
      expect(result.exitCode).toBe(1);
      expect(String(result.stderr)).toBe(
        `be: tftp: cannot bind UDP 127.0.0.1:${port}: address already in use (another server holds port ${port}): stop it or set tftp.port to a free port`,
      );
    } finally {
      holder.close();
    }
  });
});
