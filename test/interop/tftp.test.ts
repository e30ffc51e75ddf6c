/**
 * Real TFTP clients against our server on 127.0.0.1: curl, atftp, busybox tftp and tftp-hpa's tftp fetch
 * files at the sizes where TFTP goes wrong (empty, one block boundary either side, block-number rollover
 * at blksize 512, a 40 MiB kernel at 1468), and every sha256 must match.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needPeers } from '../lan/peers.js';
import { startServer, type Harness } from '../services/tftp/harness.js';
import { LossyRelay, seededRandom } from '../services/tftp/relay.js';

const peers = needPeers('tftp interop', ['curl', 'atftp', 'busybox', 'tftp']);

const sizes = { empty: 0, one: 1, b511: 511, b512: 512, b513: 513, roll: 512 * 65536, roll1: 512 * 65536 + 1, kernel: 40 * 1024 * 1024 };
type Name = keyof typeof sizes;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

type Client = 'curl' | 'atftp' | 'busybox' | 'tftp-hpa';

/** The argv that makes each client fetch FILE to OUT, at blksize (undefined: the client's default, 512). */
function command(client: Client, port: number, file: string, out: string, blksize?: number, windowsize?: number): string[] {
  switch (client) {
    case 'curl':
      // curl 7.88.1 fails any empty file it fetched with options (exit 71, "getpeername() failed"), with
      // tftpd-hpa too: fetch that one without options.
      return [
        'curl',
        '-sS',
        ...(file === 'empty' ? ['--tftp-no-options'] : blksize ? ['--tftp-blksize', String(blksize)] : []),
        '-o',
        out,
        `tftp://127.0.0.1:${port}/${file}`,
      ];
    case 'atftp':
      return [
        'atftp',
        ...(blksize ? ['--option', `blksize ${blksize}`] : []),
        ...(windowsize ? ['--option', `windowsize ${windowsize}`] : []),
        '-g',
        '-r',
        file,
        '-l',
        out,
        '127.0.0.1',
        String(port),
      ];
    case 'busybox':
      return ['busybox', 'tftp', ...(blksize ? ['-b', String(blksize)] : []), '-g', '-r', file, '-l', out, '127.0.0.1', String(port)];
    case 'tftp-hpa':
      return ['tftp', '127.0.0.1', String(port), '-m', 'binary', '-c', 'get', file, out];
  }
}

async function fetchWith(argv: string[]): Promise<void> {
  const [file, ...args] = argv;
  // execa ends the child by its PID when the guard runs out; the guard is not an assertion about speed.
  const result = await execa(file!, args, { reject: false, timeout: 120_000, stdin: 'ignore' });
  if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (${result.exitCode}): ${result.stderr || result.stdout}`);
}

describe.skipIf(peers.skip)('TFTP interop with real clients', () => {
  let h: Harness;
  let out: string;
  const digests = new Map<Name, string>();

  beforeAll(async () => {
    h = await startServer({ logLevel: 'info', timing: { retransmitMs: 1000, retries: 6, idleTimeoutMs: 60_000 } });
    out = mkdtempSync(join(tmpdir(), 'be-tftp-out-'));
    for (const [name, size] of Object.entries(sizes) as [Name, number][]) {
      const data = randomBytes(size);
      writeFileSync(join(h.root, name), data);
      digests.set(name, createHash('sha256').update(data).digest('hex'));
    }
    writeFileSync(join(h.root, 'loader.rc'), 'set boot_serial=YES\r\nboot\nlast line without newline\r');
  });

  afterAll(async () => {
    await h?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const clients: Client[] = ['curl', 'atftp', 'busybox', 'tftp-hpa'];
  const small: Name[] = ['empty', 'one', 'b511', 'b512', 'b513'];

  for (const client of clients) {
    it.each(small)(`${client} fetches %s at blksize 512`, async (name) => {
      const target = join(out, `${client}-${name}`);
      await fetchWith(command(client, h.port, name, target, client === 'tftp-hpa' ? undefined : 512));
      expect(await sha256File(target)).toBe(digests.get(name));
    });

    it.each(['roll', 'roll1'] as Name[])(`${client} fetches %s (512 x 65536 [+1] bytes: block numbers wrap) at blksize 512`, async (name) => {
      const target = join(out, `${client}-${name}`);
      await fetchWith(command(client, h.port, name, target, client === 'tftp-hpa' ? undefined : 512));
      expect(await sha256File(target)).toBe(digests.get(name));
      rmSync(target);
    });

    if (client !== 'tftp-hpa') {
      // tftp-hpa's client cannot negotiate blksize (TESTLAB.md).
      it(`${client} fetches a 40 MiB kernel at blksize 1468`, async () => {
        const target = join(out, `${client}-kernel`);
        await fetchWith(command(client, h.port, 'kernel', target, 1468));
        expect(await sha256File(target)).toBe(digests.get('kernel'));
        rmSync(target);
      });
    }
  }

  it('atftp fetches the 40 MiB kernel with windowsize 16 (RFC 7440)', async () => {
    const target = join(out, 'atftp-window');
    await fetchWith(command('atftp', h.port, 'kernel', target, 1468, 16));
    expect(await sha256File(target)).toBe(digests.get('kernel'));
    rmSync(target);
    await expect.poll(() => h.finished.some((f) => f.file === 'kernel' && f.windowsize === 16 && f.outcome === 'complete')).toBe(true);
  });

  it('tftp-hpa fetches a text file in netascii mode and gets the original bytes back', async () => {
    const target = join(out, 'loader.rc');
    await fetchWith(['tftp', '127.0.0.1', String(h.port), '-m', 'ascii', '-c', 'get', 'loader.rc', target]);
    expect(readFileSync(target, 'latin1')).toBe(readFileSync(join(h.root, 'loader.rc'), 'latin1'));
  });

  it('curl reports "not found" (exit 68) for a missing file and a permission problem (exit 69) for traversal', async () => {
    // curl 7.88.1 prints "getpeername() failed" for every TFTP error; its exit status carries the TFTP code.
    const missing = await execa('curl', ['-sS', '-o', join(out, 'x'), `tftp://127.0.0.1:${h.port}/missing`], { reject: false, timeout: 30_000 });
    expect(missing.exitCode).toBe(68); // CURLE_TFTP_NOTFOUND
    const escaped = await execa('curl', ['-sS', '--path-as-is', '-o', join(out, 'y'), `tftp://127.0.0.1:${h.port}/../../etc/passwd`], {
      reject: false,
      timeout: 30_000,
    });
    expect(escaped.exitCode).toBe(69); // CURLE_TFTP_PERM
  });

  describe('through a relay that drops 5 % of datagrams both ways', () => {
    let lossy: Harness;
    let relay: LossyRelay;
    const data = randomBytes(1024 * 1024);
    const digest = createHash('sha256').update(data).digest('hex');

    beforeAll(async () => {
      lossy = await startServer({ logLevel: 'silent', timing: { retransmitMs: 30, retries: 15, idleTimeoutMs: 60_000 } });
      writeFileSync(join(lossy.root, 'file'), data);
      relay = new LossyRelay(lossy.port, 0.05, seededRandom(3));
      await relay.start();
    });
    afterAll(async () => {
      relay?.close();
      await lossy?.close();
    });

    it('busybox tftp completes with the right bytes', async () => {
      const target = join(out, 'lossy-busybox');
      await fetchWith(command('busybox', relay.port, 'file', target, 1468));
      expect(await sha256File(target)).toBe(digest);
    });

    it('atftp with windowsize 8 completes with the right bytes', async () => {
      const target = join(out, 'lossy-atftp');
      await fetchWith([
        'atftp',
        '--tftp-timeout',
        '1',
        '--option',
        'blksize 1468',
        '--option',
        'windowsize 8',
        '-g',
        '-r',
        'file',
        '-l',
        target,
        '127.0.0.1',
        String(relay.port),
      ]);
      expect(await sha256File(target)).toBe(digest);
      expect(relay.dropped).toBeGreaterThan(0);
    });
  });
});
