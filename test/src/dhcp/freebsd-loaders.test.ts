/**
 * The four real FreeBSD loaders' DHCP requests (golden bytes captured by the e2e suite, see
 * test/fixtures/freebsd/README.md) through the codec, the request reader, the identity rule and the
 * boot policy: each gets the root-path, siaddr and its loader variables whether it asked or not, and
 * the address its firmware already holds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leaseKeyFor } from '../../../src/dhcp/identity.js';
import { requestInfo } from '../../../src/dhcp/info.js';
import { LeaseTable } from '../../../src/dhcp/leases.js';
import { hexToBytes } from '../../../src/dhcp/options.js';
import { decodePacket, encodePacket, MessageType } from '../../../src/dhcp/packet.js';
import { decideBoot } from '../../../src/dhcp/policy.js';

const fixture = (name: string) => hexToBytes(readFileSync(join(import.meta.dirname, '../../fixtures/freebsd', `${name}.hex`), 'utf8'));
const loaders = [
  ['12.2-bios', 'freebsd-loader'],
  ['12.2-uefi', 'freebsd-loader'],
  ['10.1-bios', 'freebsd-loader'],
  ['10.1-uefi', 'plain'],
] as const;

const host = { name: 'vm', loaderEnv: { 'be.probe': 'hello', 'vfs.root.mountfrom': 'nfs:' } };
const env = { name: 'r101', tftpPrefix: 'r101/', nfsPath: '/ROOT/r101' };
const settings = { serverAddress: '10.99.8.1', bootUnknown: false, httpBaseUrl: null };

describe("the real FreeBSD loaders' DHCP requests", () => {
  it.each(
    loaders.flatMap(
      ([name, kind]) =>
        [
          [`${name}-discover`, kind, MessageType.DISCOVER],
          [`${name}-request`, kind, MessageType.REQUEST],
        ] as const,
    ),
  )('%s: decodes, re-encodes byte for byte, is read as %s, and gets root-path, siaddr and loader variables unasked', (name, kind, type) => {
    const bytes = fixture(name);
    const packet = decodePacket(bytes);
    expect(Buffer.from(encodePacket(packet)).subarray(0, 240)).toEqual(Buffer.from(bytes).subarray(0, 240));
    const info = requestInfo(packet);
    expect(info).toMatchObject({ kind, messageType: type, mac: '52:54:00:be:08:01', clientKey: 'hw:1:525400be0801' });
    const answer = decideBoot(info, host, env, settings);
    expect(answer).toMatchObject({
      boot: true,
      nextServer: '10.99.8.1',
      rootPath: '10.99.8.1:/ROOT/r101',
      loaderOptions: [
        { code: 250, text: 'be.probe=hello' },
        { code: 251, text: 'vfs.root.mountfrom=nfs:' },
      ],
    });
    // A loader is never handed a boot file: that would be the firmware's answer.
    expect(answer.file).toBeUndefined();
  });

  it.each(loaders.map(([name]) => name))('%s: takes over the lease its firmware (iPXE, with option 61) holds', (name) => {
    const table = new LeaseTable({ range: { start: '10.99.8.100', end: '10.99.8.120' }, exclude: [] });
    table.apply({ op: 'bind', ip: '10.99.8.100', client: 'id:01525400be0801', mac: '52:54:00:be:08:01', expires: 2_000_000_000 });
    const info = requestInfo(decodePacket(fixture(`${name}-discover`)));
    const key = leaseKeyFor(table, info, 1_900_000_000_000);
    expect(key).toBe('id:01525400be0801');
    expect(table.allocate(key, undefined, 1_900_000_000_000)).toBe('10.99.8.100');
    // Another machine's lease is never taken over.
    const stranger = { clientKey: 'hw:1:525400be0802', mac: '52:54:00:be:08:02' };
    expect(leaseKeyFor(table, stranger, 1_900_000_000_000)).toBe('hw:1:525400be0802');
  });
});
