import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestInfo, parseRfc3004, type ClientKind } from '../../../src/dhcp/info.js';
import { hexToBytes } from '../../../src/dhcp/options.js';
import { BOOTREQUEST, decodePacket, emptyPacket, MessageType, setOption, setRaw, type DhcpPacket } from '../../../src/dhcp/packet.js';
import { decideBoot, loaderOptions, type BootEnvironment, type BootHost, type PolicySettings } from '../../../src/dhcp/policy.js';

const ascii = (text: string) => new TextEncoder().encode(text);
const rfc3004 = (...items: string[]) => Uint8Array.from(items.flatMap((i) => [i.length, ...ascii(i)]));

interface Shape {
  vendorClass?: string;
  userClass?: Uint8Array;
  arch?: number;
  ipxe175?: boolean;
  params?: number[];
}

function request(shape: Shape): DhcpPacket {
  const p = emptyPacket(BOOTREQUEST);
  p.chaddr = Uint8Array.of(0x52, 0x54, 0, 0xbe, 0, 2);
  setOption(p, 'messageType', MessageType.DISCOVER);
  if (shape.params) setOption(p, 'parameterList', shape.params);
  if (shape.vendorClass) setOption(p, 'vendorClass', shape.vendorClass);
  if (shape.userClass) setOption(p, 'userClass', shape.userClass);
  if (shape.arch !== undefined) setOption(p, 'clientArch', [shape.arch]);
  if (shape.ipxe175) setRaw(p, 175, Uint8Array.of(19, 1, 1));
  return p;
}

/** What FreeBSD's loader sends (stand/libsa/bootp.c, FREEBSD.md): PXEClient, user class FreeBSD in RFC 3004 form. */
const loaderShape: Shape = { vendorClass: 'PXEClient', userClass: rfc3004('FreeBSD'), params: [17, 12, 16, 3, 1, 26, 54] };

describe('requestInfo reads a request once', () => {
  it('parses RFC 3004 user classes and refuses what is not one', () => {
    expect(parseRfc3004(rfc3004('FreeBSD'))).toEqual(['FreeBSD']);
    expect(parseRfc3004(rfc3004('a', 'bc'))).toEqual(['a', 'bc']);
    expect(parseRfc3004(ascii('iPXE'))).toBeUndefined(); // 'i' = 105 overruns
    expect(parseRfc3004(Uint8Array.of(0))).toBeUndefined();
  });

  const cases: [string, Shape, ClientKind][] = [
    ['FreeBSD loader', loaderShape, 'freebsd-loader'],
    ["10.1's pxeboot: a bare PXEClient, no option 93, nothing else", { vendorClass: 'PXEClient' }, 'freebsd-loader'],
    ['PXE firmware without option 93 (it says :Arch: in option 60)', { vendorClass: 'PXEClient:Arch:00000:UNDI:002001' }, 'pxe'],
    ["10.1's loader.efi: option 53 only", {}, 'plain'],
    ['iPXE by plain user class', { vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClass: ascii('iPXE'), arch: 0 }, 'ipxe'],
    ['iPXE by option 175', { vendorClass: 'PXEClient:Arch:00007', ipxe175: true, arch: 7 }, 'ipxe'],
    ['PXE firmware', { vendorClass: 'PXEClient:Arch:00007:UNDI:003016', arch: 7 }, 'pxe'],
    ['UEFI HTTP boot', { vendorClass: 'HTTPClient:Arch:00016', arch: 16 }, 'http'],
    ['plain client', { params: [1, 3, 6] }, 'plain'],
    ['user class FreeBSD without PXEClient', { userClass: rfc3004('FreeBSD') }, 'plain'],
  ];
  it.each(cases)('%s', (_, shape, kind) => {
    expect(requestInfo(request(shape)).kind).toBe(kind);
  });

  it('recognises the captured udhcpc request shaped like the loader (golden bytes)', () => {
    const bytes = hexToBytes(readFileSync(join(import.meta.dirname, '../../fixtures/dhcp/udhcpc-discover.hex'), 'utf8'));
    const info = requestInfo(decodePacket(bytes));
    expect(info).toMatchObject({ kind: 'freebsd-loader', mac: '52:54:00:be:00:01', userClasses: ['FreeBSD'], userClassRfc3004: true });
    expect(info.clientKey).toBe('id:01525400be0001');
    expect(info.parameterList).toContain(17);
  });

  it('recognises captured iPXE (golden bytes) by its plain user class and option 175', () => {
    const bytes = hexToBytes(readFileSync(join(import.meta.dirname, '../../fixtures/dhcp/ipxe-discover.hex'), 'utf8'));
    expect(requestInfo(decodePacket(bytes))).toMatchObject({ kind: 'ipxe', ipxe: true, arch: 0, userClasses: ['iPXE'], userClassRfc3004: false });
  });

  it('keys leases by client id, else by hardware address', () => {
    expect(requestInfo(request({})).clientKey).toBe('hw:1:525400be0002');
  });
});

describe('decideBoot: the table', () => {
  const settings: PolicySettings = { serverAddress: '10.99.0.1', bootUnknown: false, httpBaseUrl: null };
  const env: BootEnvironment = { name: 'head', tftpPrefix: 'head/', nfsPath: '/var/db/be/envs/head' };
  const host: BootHost = { name: 'm1', loaderEnv: { 'vfs.root.mountfrom': 'nfs:', 'boot.nfsroot.options': 'nfsv3' } };
  const ipxeHost: BootHost = { name: 'm2', ipxeScript: 'scripts/m2.ipxe' };

  const rows: [string, Shape, BootHost | undefined, BootEnvironment | undefined, Partial<PolicySettings>, Record<string, unknown>][] = [
    [
      'BIOS PXE of a host → pxeboot, with its root-path and variables unasked (one PXE chain)',
      { vendorClass: 'PXEClient:Arch:00000', arch: 0 },
      host,
      env,
      {},
      {
        boot: true,
        file: 'head/boot/pxeboot',
        nextServer: '10.99.0.1',
        vendorClass: 'PXEClient',
        rootPath: '10.99.0.1:/var/db/be/envs/head',
        loaderOptions: [
          { code: 250, text: 'vfs.root.mountfrom=nfs:' },
          { code: 251, text: 'boot.nfsroot.options=nfsv3' },
        ],
      },
    ],
    [
      'BIOS PXE of an unknown host (bootUnknown) → pxeboot, no root-path unasked',
      { vendorClass: 'PXEClient:Arch:00000', arch: 0 },
      undefined,
      env,
      { bootUnknown: true },
      { boot: true, file: 'head/boot/pxeboot', rootPath: undefined, loaderOptions: [] },
    ],
    ['PXE with no option 93 is BIOS', { vendorClass: 'PXEClient:Arch:00000:UNDI:002001' }, host, env, {}, { file: 'head/boot/pxeboot' }],
    [
      '10.1 pxeboot (53, 60 PXEClient only) → root-path and loader variables, no file',
      { vendorClass: 'PXEClient' },
      host,
      env,
      {},
      {
        boot: true,
        file: undefined,
        nextServer: '10.99.0.1',
        rootPath: '10.99.0.1:/var/db/be/envs/head',
        loaderOptions: [
          { code: 250, text: 'vfs.root.mountfrom=nfs:' },
          { code: 251, text: 'boot.nfsroot.options=nfsv3' },
        ],
      },
    ],
    [
      '10.1 loader.efi of a host (option 53 only) → root-path, siaddr and loader variables',
      {},
      host,
      env,
      {},
      {
        boot: true,
        file: undefined,
        nextServer: '10.99.0.1',
        rootPath: '10.99.0.1:/var/db/be/envs/head',
        loaderOptions: [
          { code: 250, text: 'vfs.root.mountfrom=nfs:' },
          { code: 251, text: 'boot.nfsroot.options=nfsv3' },
        ],
      },
    ],
    ['UEFI x64 (7) → loader.efi', { vendorClass: 'PXEClient:Arch:00007', arch: 7 }, host, env, {}, { file: 'head/boot/loader.efi' }],
    ['UEFI x64 (9, RFC 4578 erratum) → loader.efi', { vendorClass: 'PXEClient:Arch:00009', arch: 9 }, host, env, {}, { file: 'head/boot/loader.efi' }],
    [
      'ARM64 (11) → the arm64 loader',
      { vendorClass: 'PXEClient:Arch:00011', arch: 11 },
      host,
      env,
      {},
      { file: 'head/boot/loader.efi', reason: expect.stringContaining('ARM64') },
    ],
    ['unknown arch → nothing', { vendorClass: 'PXEClient', arch: 42 }, host, env, {}, { boot: false }],
    [
      'PXE asking for 17 also gets root-path',
      { vendorClass: 'PXEClient', arch: 0, params: [17, 67] },
      host,
      env,
      {},
      { file: 'head/boot/pxeboot', rootPath: '10.99.0.1:/var/db/be/envs/head' },
    ],
    [
      'FreeBSD loader → root-path and loader variables, no file',
      loaderShape,
      host,
      env,
      {},
      {
        boot: true,
        file: undefined,
        rootPath: '10.99.0.1:/var/db/be/envs/head',
        loaderOptions: [
          { code: 250, text: 'vfs.root.mountfrom=nfs:' },
          { code: 251, text: 'boot.nfsroot.options=nfsv3' },
        ],
      },
    ],
    ['iPXE with a script → the script', { vendorClass: 'PXEClient', userClass: ascii('iPXE'), arch: 0 }, ipxeHost, env, {}, { file: 'scripts/m2.ipxe' }],
    ['iPXE without a script → the loader of its arch', { vendorClass: 'PXEClient', ipxe175: true, arch: 7 }, host, env, {}, { file: 'head/boot/loader.efi' }],
    ['HTTP boot without httpBaseUrl → nothing', { vendorClass: 'HTTPClient:Arch:00016', arch: 16 }, host, env, {}, { boot: false }],
    [
      'HTTP boot → URL + HTTPClient',
      { vendorClass: 'HTTPClient:Arch:00016', arch: 16 },
      host,
      env,
      { httpBaseUrl: 'http://10.99.0.1/be/' },
      { boot: true, file: 'http://10.99.0.1/be/head/boot/loader.efi', vendorClass: 'HTTPClient' },
    ],
    [
      'initramfs asking for 17 → root-path only',
      { params: [1, 3, 17] },
      host,
      env,
      {},
      { boot: true, file: undefined, rootPath: '10.99.0.1:/var/db/be/envs/head' },
    ],
    ['plain client of an unknown host (bootUnknown), not asking → nothing', { params: [1, 3] }, undefined, env, { bootUnknown: true }, { boot: false }],
    [
      'unknown host, bootUnknown false → nothing',
      { vendorClass: 'PXEClient', arch: 0 },
      undefined,
      env,
      {},
      { boot: false, reason: expect.stringContaining('bootUnknown') },
    ],
    [
      'unknown host, bootUnknown true → boots the default BE',
      { vendorClass: 'PXEClient', arch: 0 },
      undefined,
      env,
      { bootUnknown: true },
      { boot: true, file: 'head/boot/pxeboot' },
    ],
    ['host without a boot environment → nothing', loaderShape, host, undefined, {}, { boot: false }],
  ];
  it.each(rows)('%s', (_, shape, h, e, overrides, expected) => {
    const answer = decideBoot(requestInfo(request(shape)), h, e, { ...settings, ...overrides });
    expect(answer).toMatchObject(Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined)));
    for (const [key, value] of Object.entries(expected)) if (value === undefined) expect(answer).not.toHaveProperty(key);
  });

  it('never answers iPXE with an iPXE binary (loop-break): every file it gets is a loader or its script', () => {
    for (const arch of [0, 6, 7, 9, 10, 11]) {
      const answer = decideBoot(requestInfo(request({ vendorClass: 'PXEClient', userClass: ascii('iPXE'), arch })), host, env, settings);
      expect(answer.file ?? '').not.toMatch(/ipxe|undionly|snponly/i);
    }
  });
});

describe('loaderOptions', () => {
  it('puts five variables in 250-254 and packs the rest into 246-249', () => {
    const env = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`v${i}`, `${i}`]));
    expect(loaderOptions(env)).toEqual([
      { code: 250, text: 'v0=0' },
      { code: 251, text: 'v1=1' },
      { code: 252, text: 'v2=2' },
      { code: 253, text: 'v3=3' },
      { code: 254, text: 'v4=4' },
      { code: 246, text: 'v5=5;v6=6;v7=7' },
    ]);
  });
  it('refuses more than fits', () => {
    const env = Object.fromEntries(Array.from({ length: 5 + 5 }, (_, i) => [`v${i}`, 'x'.repeat(250)]));
    expect(() => loaderOptions(env)).toThrow(RangeError);
  });
});
