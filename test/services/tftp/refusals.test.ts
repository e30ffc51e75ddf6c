import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorySource } from '../../../services/tftp/source.js';
import { needPeers } from '../../lan/peers.js';
import { fetchFile, TftpClientError } from './client.js';
import { startServer, type Harness } from './harness.js';
import { RawPeer } from './raw.js';

// Making a device node needs root; under CI=true its absence fails instead of skipping.
const asRoot = needPeers('tftp refusal of device files', ['mknod'], { root: true });

let h: Harness;
let outside: string;

beforeAll(async () => {
  h = await startServer();
  outside = mkdtempSync(join(tmpdir(), 'be-tftp-outside-'));
  writeFileSync(join(outside, 'secret'), 'not for clients');
  mkdirSync(join(h.root, 'boot'));
  writeFileSync(join(h.root, 'boot', 'pxeboot'), 'pxeboot bytes');
  writeFileSync(join(h.root, 'boot', 'loader.efi'), 'loader bytes');
  // Links that stay inside the root are served; links that leave it are not.
  symlinkSync('boot/pxeboot', join(h.root, 'pxeboot'));
  symlinkSync('../boot/loader.efi', join(h.root, 'boot', 'loader-link.efi'));
  symlinkSync(join(outside, 'secret'), join(h.root, 'abs-escape'));
  symlinkSync('../' + outside.split('/').pop() + '/secret', join(h.root, 'rel-escape'));
  symlinkSync(outside, join(h.root, 'dir-escape'));
  symlinkSync('/etc/passwd', join(h.root, 'passwd'));
  symlinkSync('loop-b', join(h.root, 'loop-a'));
  symlinkSync('loop-a', join(h.root, 'loop-b'));
  symlinkSync('nowhere', join(h.root, 'dangling'));
  execFileSync('mkfifo', [join(h.root, 'fifo')]);
  symlinkSync('/dev/zero', join(h.root, 'zero-link'));
  if (!asRoot.skip) execFileSync('mknod', [join(h.root, 'null-dev'), 'c', '1', '3']);
});

afterAll(async () => {
  await h.close();
  rmSync(outside, { recursive: true, force: true });
});

async function refusal(file: string, mode = 'octet'): Promise<TftpClientError> {
  try {
    await fetchFile({ port: h.port, file, mode });
  } catch (err) {
    if (err instanceof TftpClientError) return err;
    throw err;
  }
  throw new Error(`${file} was served`);
}

describe('TFTP refusals', () => {
  it.each(['pxeboot', '/boot/pxeboot', 'boot\\pxeboot', '\\boot\\pxeboot', '//boot/./pxeboot'])('serves %j', async (name) => {
    expect((await fetchFile({ port: h.port, file: name })).data.toString()).toBe('pxeboot bytes');
  });

  it('serves names byte for byte, whether or not they are valid UTF-8', async () => {
    // A Latin-1 name (one byte 0xe9) and a UTF-8 one (0xc3 0xa9): the wire carries bytes, so does the disk.
    writeFileSync(Buffer.from(`${h.root}/caf\xe9.cfg`, 'latin1'), 'latin1 name');
    writeFileSync(join(h.root, 'caf\u00e9-utf8.cfg'), 'utf-8 name');
    expect((await fetchFile({ port: h.port, file: 'caf\u00e9.cfg' })).data.toString()).toBe('latin1 name');
    const utf8Name = Buffer.from('caf\u00e9-utf8.cfg').toString('latin1');
    expect((await fetchFile({ port: h.port, file: utf8Name })).data.toString()).toBe('utf-8 name');
  });

  it('serves a symlink that stays inside the root', async () => {
    expect((await fetchFile({ port: h.port, file: 'boot/loader-link.efi' })).data.toString()).toBe('loader bytes');
  });

  const traversal = [
    '../etc/passwd',
    '/../etc/passwd',
    '..\\..\\etc\\passwd',
    'boot/../../etc/passwd',
    'boot\\..\\..\\..\\etc\\shadow',
    '..',
    '/',
    '',
    './../boot/pxeboot',
  ];
  it.each(traversal)('refuses the traversal %j with ERROR 2', async (name) => {
    const err = await refusal(name);
    expect(err.code).toBe(2);
  });

  it.each([
    ['abs-escape', 'resolves outside the root'],
    ['rel-escape', 'resolves outside the root'],
    ['dir-escape/secret', 'resolves outside the root'],
    ['passwd', 'resolves outside the root'],
    ['zero-link', 'resolves outside the root'],
    ['boot', 'not a regular file'],
    ['fifo', 'not a regular file'],
    ['loop-a', 'too many symbolic links'],
  ])('refuses %j with ERROR 2 (%s) and logs why', async (name, reason) => {
    const err = await refusal(name);
    expect(err.code).toBe(2);
    expect(err.serverMessage).toBe('Access violation');
    await expect.poll(() => h.logs.some((l) => l.msg === 'request refused' && l.file === name && String(l.reason).includes(reason))).toBe(true);
  });

  it.skipIf(asRoot.skip)('refuses a character device with ERROR 2', async () => {
    expect((await refusal('null-dev')).code).toBe(2);
  });

  it.each(['missing', 'boot/missing', 'dangling', 'boot/pxeboot/inner'])('answers %j with ERROR 1', async (name) => {
    const err = await refusal(name);
    expect(err.code).toBe(1);
    expect(err.serverMessage).toBe('File not found');
  });

  it('refuses a write request with ERROR 2, read-only', async () => {
    const peer = await RawPeer.open();
    try {
      peer.send({ op: 'WRQ', filename: 'upload', mode: 'octet', options: [] }, h.port);
      expect((await peer.next()).packet).toEqual({ op: 'ERROR', code: 2, message: 'Read-only server' });
      await expect.poll(() => h.logs.some((l) => l.code === 'E_TFTP_READ_ONLY' && l.level === 40)).toBe(true);
    } finally {
      peer.close();
    }
  });

  it('refuses the obsolete mail mode with ERROR 4', async () => {
    expect((await refusal('boot/pxeboot', 'mail')).code).toBe(4);
  });

  it('never hands out a file from outside the root while a directory on the path is swapped for a link (check after open)', async () => {
    const source = await DirectorySource.create(h.root);
    const client = { address: '127.0.0.1', port: 1 };
    // root/swap is in turn a real directory holding f, and a link to a directory outside holding another f.
    mkdirSync(join(h.root, 'swap'));
    writeFileSync(join(h.root, 'swap', 'f'), 'inside bytes');
    mkdirSync(join(outside, 'evil'));
    writeFileSync(join(outside, 'evil', 'f'), 'outside bytes');
    symlinkSync(join(outside, 'evil'), join(h.root, 'evil-link'));
    let swapping = true;
    let swaps = 0;
    const swapper = (async () => {
      while (swapping) {
        // A directory cannot be renamed over a link (nor the reverse), so the name is briefly missing.
        renameSync(join(h.root, 'swap'), join(h.root, 'swap-dir'));
        renameSync(join(h.root, 'evil-link'), join(h.root, 'swap'));
        await new Promise((resolve) => setImmediate(resolve));
        renameSync(join(h.root, 'swap'), join(h.root, 'evil-link'));
        renameSync(join(h.root, 'swap-dir'), join(h.root, 'swap'));
        swaps++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const seen = { inside: 0, refused: 0, outside: 0 };
    for (let i = 0; i < 3000; i++) {
      try {
        const file = await source.open('swap/f', client);
        const buffer = new Uint8Array(64);
        const n = await file.read(buffer);
        await file.close();
        if (Buffer.from(buffer.subarray(0, n)).toString() === 'inside bytes') seen.inside++;
        else seen.outside++;
      } catch (err) {
        expect(['E_TFTP_ACCESS', 'E_TFTP_NOT_FOUND']).toContain((err as { code: string }).code);
        seen.refused++;
      }
    }
    swapping = false;
    await swapper;
    expect(seen.outside).toBe(0);
    expect(seen.inside).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
    expect(swaps).toBeGreaterThan(10);
  });

  it('the directory source checks the descriptor it opened, whatever the name said', async () => {
    const source = await DirectorySource.create(h.root);
    const client = { address: '127.0.0.1', port: 1 };
    await expect(source.open('abs-escape', client)).rejects.toMatchObject({ code: 'E_TFTP_ACCESS' });
    const file = await source.open('pxeboot', client);
    try {
      expect(file.size).toBe('pxeboot bytes'.length);
    } finally {
      await file.close();
    }
    await expect(DirectorySource.create(join(h.root, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(DirectorySource.create(join(h.root, 'boot', 'pxeboot'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
