import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { updateState } from '../../../services/be/state.js';
import { BootCatalogue } from '../../../services/boot/catalogue.js';
import { BootEnvironmentSource } from '../../../services/boot/tftp-source.js';
import { DirectorySource, type TftpFile } from '../../../services/tftp/source.js';

const dir = mkdtempSync(join(tmpdir(), 'be-boot-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

async function text(opened: Promise<TftpFile>): Promise<string> {
  const f = await opened;
  const chunks: Buffer[] = [];
  const buffer = new Uint8Array(4096);
  for (let n = await f.read(buffer); n > 0; n = await f.read(buffer)) chunks.push(Buffer.from(buffer.subarray(0, n)));
  await f.close();
  return Buffer.concat(chunks).toString();
}

const envs = join(dir, 'envs');
const config = configSchema.parse({
  be: { backend: 'dir', root: envs },
  server: { stateDir: join(dir, 'state') },
  hosts: [
    { name: 'head', mac: '02:01:02:03:04:05', ip: '10.99.0.50', be: 'head' },
    { name: 'lab', mac: '02:00:00:00:00:02', be: 'other' },
  ],
});

describe('the boot environments TFTP source', () => {
  let source: BootEnvironmentSource;
  beforeAll(async () => {
    file(join(envs, 'head', 'boot', 'pxeboot'), 'head pxeboot');
    file(join(envs, 'head', 'etc', 'master.passwd'), 'root:secret');
    symlinkSync('../etc/master.passwd', join(envs, 'head', 'boot', 'passwd'));
    file(join(envs, 'other', 'boot', 'pxeboot'), 'other pxeboot');
    file(join(dir, 'tftp', 'boot', 'pxeboot'), 'default pxeboot');
    await updateState(config.server.stateDir, (s) => (s.pxe = ['head']));
    const catalogue = await BootCatalogue.load(config);
    // The DHCP server's lease table, as dhcp.holderOf answers: 10.99.0.77 is leased to host lab (BE other).
    const leases = new Map([['10.99.0.77', { mac: '02:00:00:00:00:02', host: 'lab' }]]);
    source = new BootEnvironmentSource(
      () => ({ config, catalogue }),
      { holderOf: async (address) => leases.get(address) ?? null },
      await DirectorySource.create(join(dir, 'tftp')),
    );
  });

  const client = (address: string) => ({ address, port: 1024 });

  it('serves NAME/boot/... from a PXE-bootable BE', async () => {
    expect(await text(source.open('head/boot/pxeboot', client('10.99.0.9')))).toBe('head pxeboot');
  });

  it('serves boot/... from the BE of the host at the client address', async () => {
    expect(await text(source.open('boot/pxeboot', client('10.99.0.50')))).toBe('head pxeboot');
  });

  it('serves everyone else, and BEs that are not PXE-bootable, from the default root', async () => {
    expect(await text(source.open('boot/pxeboot', client('10.99.0.9')))).toBe('default pxeboot');
    expect(await text(source.open('boot/pxeboot', client('10.99.0.77')))).toBe('default pxeboot');
    await expect(source.open('other/boot/pxeboot', client('10.99.0.77'))).rejects.toMatchObject({ code: 'E_TFTP_NOT_FOUND' });
  });

  it("never serves what lies outside a BE's boot/", async () => {
    await expect(source.open('head/etc/master.passwd', client('10.99.0.50'))).rejects.toMatchObject({ code: 'E_TFTP_NOT_FOUND' });
    await expect(source.open('head/boot/passwd', client('10.99.0.50'))).rejects.toMatchObject({ code: 'E_TFTP_ACCESS' });
    await expect(source.open('boot/passwd', client('10.99.0.50'))).rejects.toMatchObject({ code: 'E_TFTP_ACCESS' });
  });
});
