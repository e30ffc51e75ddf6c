import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getOption, getRaw, MessageType, setOption, setRaw, encodePacket, type DhcpPacket } from '../../../src/dhcp/packet.js';
import { BeError } from '../../../src/errors.js';
import { DhcpServer, dhcpBindError, type DhcpHost, type DhcpServerOptions } from '../../../services/dhcp/server.js';
import { subnetOf } from '../../../services/dhcp/network.js';
import { LogCapture, macBytes, request, TestClient } from './helpers.js';
import { testDatagrams } from '../../lan/datagrams.js';

const ascii = (text: string) => new TextEncoder().encode(text);
const rfc3004 = (...items: string[]) => Uint8Array.from(items.flatMap((i) => [i.length, ...new TextEncoder().encode(i)]));
const env = { name: 'head', tftpPrefix: 'head/', nfsPath: '/var/db/be/envs/head' };

let dir: string;
let client: TestClient;
let server: DhcpServer;
let logs: LogCapture;

function options(overrides: Partial<DhcpServerOptions> = {}): DhcpServerOptions {
  const hosts: DhcpHost[] = [
    { name: 'reserved', mac: '52:54:00:be:01:32', ip: '127.0.0.50', env },
    { name: 'm1', mac: '52:54:00:be:01:07', env, loaderEnv: { 'vfs.root.mountfrom': 'nfs:' } },
  ];
  return {
    // The native path unless BE_TEST_DATAGRAMS says otherwise: CI runs this file on both (npm run test:datagrams).
    datagrams: testDatagrams(),
    mode: 'authoritative',
    bindAddress: '127.0.0.1',
    port: 0,
    proxyPort: null,
    clientPort: client.port,
    relayPort: client.port,
    broadcastAddress: '127.0.0.1',
    serverAddress: '127.0.0.1',
    subnet: subnetOf('127.0.0.0', 24),
    range: { start: '127.0.0.100', end: '127.0.0.102' },
    router: '127.0.0.1',
    dns: ['127.0.0.53', '127.0.0.54'],
    leaseTime: 600,
    declineTime: 3600,
    extraOptions: { domainName: 'lan' },
    hosts,
    defaultEnv: undefined,
    policy: { serverAddress: '127.0.0.1', bootUnknown: false, httpBaseUrl: null },
    leaseFile: join(dir, 'dhcp.leases'),
    log: logs.log,
    ...overrides,
  };
}

async function startServer(overrides: Partial<DhcpServerOptions> = {}): Promise<DhcpServer> {
  server = new DhcpServer(options(overrides));
  await server.start();
  return server;
}

/** DISCOVER, then REQUEST in SELECTING state: the four-way exchange. Returns the ACK. */
async function lease(mac: Uint8Array, extra: (p: DhcpPacket) => void = () => {}): Promise<DhcpPacket> {
  const discover = request(MessageType.DISCOVER, mac);
  extra(discover);
  const offer = await client.exchange(discover, server.port);
  expect(getOption(offer, 'messageType')).toBe(MessageType.OFFER);
  const req = request(MessageType.REQUEST, mac);
  extra(req);
  setOption(req, 'serverId', '127.0.0.1');
  setOption(req, 'requestedAddress', offer.yiaddr);
  return client.exchange(req, server.port);
}

function journal(): string {
  return readFileSync(join(dir, 'dhcp.leases'), 'utf8');
}

/** DECLINE and RELEASE get no reply, so nothing orders the test after their journal write: wait for it. */
async function journalWith(text: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const now = journal();
    if (now.includes(text)) return now;
    await new Promise((r) => setTimeout(r, 20));
  }
  return journal();
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'be-dhcp-'));
  logs = new LogCapture();
  client = await TestClient.open();
});

afterEach(async () => {
  await server?.close();
  client.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('authoritative: the four-way exchange', () => {
  it('offers and acknowledges an address with router, DNS, lease time and T1/T2', async () => {
    await startServer();
    const ack = await lease(macBytes(1));
    expect(getOption(ack, 'messageType')).toBe(MessageType.ACK);
    expect(ack.yiaddr).toBe('127.0.0.100');
    expect(getOption(ack, 'serverId')).toBe('127.0.0.1');
    expect(getOption(ack, 'leaseTime')).toBe(600);
    expect(getOption(ack, 'renewalTime')).toBe(300);
    expect(getOption(ack, 'rebindingTime')).toBe(525);
    expect(getOption(ack, 'subnetMask')).toBe('255.255.255.0');
    expect(getOption(ack, 'router')).toEqual(['127.0.0.1']);
    expect(getOption(ack, 'dns')).toEqual(['127.0.0.53', '127.0.0.54']);
    expect(getOption(ack, 'domainName')).toBe('lan');
    expect(getRaw(ack, 17)).toBeUndefined(); // unknown host: no boot information
  });

  it('writes the lease to the journal before the ACK leaves', async () => {
    await startServer();
    const discover = request(MessageType.DISCOVER, macBytes(2));
    const offer = await client.exchange(discover, server.port);
    const req = request(MessageType.REQUEST, macBytes(2));
    setOption(req, 'serverId', '127.0.0.1');
    setOption(req, 'requestedAddress', offer.yiaddr);
    const ack = await client.exchange(req, server.port);
    // read synchronously on arrival of the ACK: the record must already be there
    expect(journal()).toContain(`"op":"bind","ip":"${ack.yiaddr}","client":"hw:1:525400be0102"`);
  });

  it('counts each request by its outcome, and sends no ACK whose binding did not reach the journal', async () => {
    const outcomes: string[] = [];
    await startServer({ onPacket: (type, outcome) => outcomes.push(`${type}:${outcome}`) });
    await lease(macBytes(3));
    const other = request(MessageType.REQUEST, macBytes(4));
    setOption(other, 'serverId', '127.0.0.9');
    setOption(other, 'requestedAddress', '127.0.0.101');
    expect(await client.silent(other, server.port)).toEqual([]);
    const wrongNet = request(MessageType.REQUEST, macBytes(3));
    setOption(wrongNet, 'requestedAddress', '192.168.7.7');
    expect(getOption(await client.exchange(wrongNet, server.port), 'messageType')).toBe(MessageType.NAK);
    expect(outcomes).toEqual(['discover:offer', 'request:ack', 'request:ignored', 'inform:ack', 'request:nak']);
    // The journal's file is closed behind its back: the binding cannot be made durable, so no ACK leaves.
    const offer = await client.exchange(request(MessageType.DISCOVER, macBytes(5)), server.port);
    await (server as unknown as { journal: { handle: { close(): Promise<void> } } }).journal.handle.close();
    const doomed = request(MessageType.REQUEST, macBytes(5));
    setOption(doomed, 'serverId', '127.0.0.1');
    setOption(doomed, 'requestedAddress', offer.yiaddr);
    await client.send(doomed, server.port);
    await expect.poll(() => outcomes.at(-1)).toBe('request:dropped');
    expect(client.received.filter((r) => r.packet.xid === doomed.xid)).toEqual([]);
    expect(logs.lines.find((l) => l.msg === 'DHCP request failed')).toMatchObject({ mac: '52:54:00:be:01:05' });
  });

  it('gives a returning client its address again, and distinct addresses to distinct clients', async () => {
    await startServer();
    const a = await lease(macBytes(3));
    const b = await lease(macBytes(4));
    expect(a.yiaddr).not.toBe(b.yiaddr);
    expect((await lease(macBytes(3))).yiaddr).toBe(a.yiaddr);
  });

  it('keys leases by client identifier (61) when present', async () => {
    await startServer();
    const id = Uint8Array.of(1, 2, 3, 4);
    const a = await lease(macBytes(5), (p) => setOption(p, 'clientId', id));
    const b = await lease(macBytes(6), (p) => setOption(p, 'clientId', id));
    expect(b.yiaddr).toBe(a.yiaddr);
    expect([...getOption(b, 'clientId')!]).toEqual([1, 2, 3, 4]);
  });

  it('forgets its offer, silently, when the client selects another server', async () => {
    await startServer();
    const offer = await client.exchange(request(MessageType.DISCOVER, macBytes(8)), server.port);
    const req = request(MessageType.REQUEST, macBytes(8));
    setOption(req, 'serverId', '127.0.0.9');
    setOption(req, 'requestedAddress', offer.yiaddr);
    expect(await client.silent(req, server.port)).toEqual([]);
    // the address is free again for another client at once
    const ask = request(MessageType.DISCOVER, macBytes(9));
    setOption(ask, 'requestedAddress', offer.yiaddr);
    expect((await client.exchange(ask, server.port)).yiaddr).toBe(offer.yiaddr);
  });
});

describe('REQUEST states (RFC 2131 §4.3.2)', () => {
  it("INIT-REBOOT: ACKs the client's own address, NAKs another or a wrong network", async () => {
    await startServer();
    const ack = await lease(macBytes(10));
    const good = request(MessageType.REQUEST, macBytes(10));
    setOption(good, 'requestedAddress', ack.yiaddr);
    expect(getOption(await client.exchange(good, server.port), 'messageType')).toBe(MessageType.ACK);
    const other = request(MessageType.REQUEST, macBytes(10));
    setOption(other, 'requestedAddress', '127.0.0.101');
    const nak = await client.exchange(other, server.port);
    expect(getOption(nak, 'messageType')).toBe(MessageType.NAK);
    expect(nak.yiaddr).toBe('0.0.0.0');
    expect(getOption(nak, 'message')).toMatch(/lease is 127\.0\.0\.100/);
    const wrongNet = request(MessageType.REQUEST, macBytes(10));
    setOption(wrongNet, 'requestedAddress', '192.168.7.7');
    expect(getOption(await client.exchange(wrongNet, server.port), 'messageType')).toBe(MessageType.NAK);
  });

  it('INIT-REBOOT of an address another client holds is NAKed', async () => {
    await startServer();
    const ack = await lease(macBytes(11));
    const thief = request(MessageType.REQUEST, macBytes(12));
    setOption(thief, 'requestedAddress', ack.yiaddr);
    expect(getOption(await client.exchange(thief, server.port), 'messageType')).toBe(MessageType.NAK);
  });

  it('RENEWING: extends the lease and answers ciaddr by unicast', async () => {
    await startServer();
    const ack = await lease(macBytes(13));
    const renew = request(MessageType.REQUEST, macBytes(13), { ciaddr: ack.yiaddr });
    const reply = await client.exchange(renew, server.port);
    expect(getOption(reply, 'messageType')).toBe(MessageType.ACK);
    expect(reply.ciaddr).toBe(ack.yiaddr);
    expect(reply.yiaddr).toBe(ack.yiaddr);
    expect(client.received.at(-1)!.from).toBe(`127.0.0.1:${server.port}`);
    expect(journal().match(new RegExp(`"op":"bind","ip":"${ack.yiaddr.replace(/\./g, '\\.')}"`, 'g'))).toHaveLength(2);
  });

  it('RENEWING an address of another network stays silent (it is not ours)', async () => {
    await startServer();
    expect(await client.silent(request(MessageType.REQUEST, macBytes(14), { ciaddr: '192.168.1.5' }), server.port)).toEqual([]);
  });
});

describe('reservations, DECLINE, RELEASE, INFORM, exhaustion', () => {
  it('a reserved host gets its fixed address, and nobody else ever does', async () => {
    await startServer({ range: { start: '127.0.0.48', end: '127.0.0.52' } });
    const thief = request(MessageType.DISCOVER, macBytes(15));
    setOption(thief, 'requestedAddress', '127.0.0.50');
    expect((await client.exchange(thief, server.port)).yiaddr).not.toBe('127.0.0.50');
    const nak = request(MessageType.REQUEST, macBytes(15));
    setOption(nak, 'requestedAddress', '127.0.0.50');
    expect(getOption(await client.exchange(nak, server.port), 'messageType')).toBe(MessageType.NAK);
    const ack = await lease(macBytes(0x32));
    expect(ack.yiaddr).toBe('127.0.0.50');
  });

  it('setHosts moves a reservation and a boot environment on the running server, with the same socket', async () => {
    await startServer({ range: { start: '127.0.0.48', end: '127.0.0.52' } });
    const port = server.port;
    const loader = (p: DhcpPacket) => {
      setOption(p, 'vendorClass', 'PXEClient');
      setOption(p, 'userClass', rfc3004('FreeBSD'));
    };
    expect(getOption(await lease(macBytes(7), loader), 'rootPath')).toBe('127.0.0.1:/var/db/be/envs/head');
    const stable = { name: 'stable', tftpPrefix: 'stable/', nfsPath: '/ROOT/stable' };
    // m1 now boots stable and owns 127.0.0.51; the old reservation .50 is free for anyone.
    server.setHosts([{ name: 'm1', mac: '52:54:00:be:01:07', ip: '127.0.0.51', env: stable }], undefined);
    expect(server.port).toBe(port);
    const moved = await lease(macBytes(7), loader);
    expect([moved.yiaddr, getOption(moved, 'rootPath')]).toEqual(['127.0.0.51', '127.0.0.1:/ROOT/stable']);
    const other = request(MessageType.DISCOVER, macBytes(15));
    setOption(other, 'requestedAddress', '127.0.0.51');
    expect((await client.exchange(other, server.port)).yiaddr).not.toBe('127.0.0.51');
    const freed = request(MessageType.DISCOVER, macBytes(16));
    setOption(freed, 'requestedAddress', '127.0.0.50');
    expect((await client.exchange(freed, server.port)).yiaddr).toBe('127.0.0.50');
  });

  it('a PXE chain is one client: firmware with option 61, then a loader without, get one address (reserved or not)', async () => {
    await startServer();
    const firmware = (p: DhcpPacket) => {
      setRaw(p, 61, Uint8Array.of(1, 0x52, 0x54, 0x00, 0xbe, 0x01, 0x07));
      setOption(p, 'vendorClass', 'PXEClient:Arch:00000:UNDI:002001');
      setOption(p, 'clientArch', [0]);
    };
    const loader = (p: DhcpPacket) => setOption(p, 'vendorClass', 'PXEClient'); // 10.1's pxeboot: 53 and 60 only
    const first = await lease(macBytes(7), firmware);
    const second = await lease(macBytes(7), loader);
    expect(second.yiaddr).toBe(first.yiaddr);
    expect(getOption(second, 'rootPath')).toBe('127.0.0.1:/var/db/be/envs/head');
    // The reserved host: the reservation belongs to the MAC, whichever voice asks.
    const reservedFirmware = await lease(macBytes(0x32), (p) => setRaw(p, 61, Uint8Array.of(1, 0x52, 0x54, 0x00, 0xbe, 0x01, 0x32)));
    const reservedLoader = await lease(macBytes(0x32), loader);
    expect([reservedFirmware.yiaddr, reservedLoader.yiaddr]).toEqual(['127.0.0.50', '127.0.0.50']);
    expect(server.table.leases().filter((l) => l.mac === '52:54:00:be:01:32')).toHaveLength(1);
    // Two operating systems on one MAC that both send option 61 stay two clients (RFC 2131 §4.2).
    const one = await lease(macBytes(9), (p) => setRaw(p, 61, ascii('os-one')));
    const two = await lease(macBytes(9), (p) => setRaw(p, 61, ascii('os-two')));
    expect(two.yiaddr).not.toBe(one.yiaddr);
  });

  it('says why a reserved host gets no offer instead of calling it pool exhaustion', async () => {
    await startServer();
    // Someone else holds the reserved address (a lease from before the reservation, replayed).
    const squatter = await lease(macBytes(15), (p) => setOption(p, 'requestedAddress', '127.0.0.100'));
    expect(squatter.yiaddr).toBe('127.0.0.100');
    server.setHosts([{ name: 'reserved', mac: '52:54:00:be:01:32', ip: '127.0.0.100', env }], undefined);
    expect(await client.silent(request(MessageType.DISCOVER, macBytes(0x32)), server.port)).toEqual([]);
    expect(logs.messages()).toContain('reserved address 127.0.0.100 of reserved is bound to another client (52:54:00:be:01:0f) until its lease ends: no offer');
    expect(logs.messages().some((m) => m.includes('exhausted'))).toBe(false);
  });

  it('DECLINE quarantines the address: the next client gets another', async () => {
    await startServer();
    const ack = await lease(macBytes(16));
    const decline = request(MessageType.DECLINE, macBytes(16));
    setOption(decline, 'serverId', '127.0.0.1');
    setOption(decline, 'requestedAddress', ack.yiaddr);
    expect(await client.silent(decline, server.port)).toEqual([]);
    expect(await journalWith(`"op":"decline","ip":"${ack.yiaddr}"`)).toContain(`"op":"decline","ip":"${ack.yiaddr}"`);
    const offers = new Set<string>();
    for (const last of [17, 18]) offers.add((await lease(macBytes(last))).yiaddr);
    expect(offers.has(ack.yiaddr)).toBe(false);
    expect(offers.size).toBe(2);
  });

  it('RELEASE marks the lease released and the client gets the same address back', async () => {
    await startServer();
    const ack = await lease(macBytes(19));
    const release = request(MessageType.RELEASE, macBytes(19), { ciaddr: ack.yiaddr });
    setOption(release, 'serverId', '127.0.0.1');
    expect(await client.silent(release, server.port)).toEqual([]);
    expect(server.table.leases().find((l) => l.ip === ack.yiaddr)?.state).toBe('released');
    expect(await journalWith(`"op":"release","ip":"${ack.yiaddr}"`)).toContain(`"op":"release","ip":"${ack.yiaddr}"`);
    expect((await lease(macBytes(19))).yiaddr).toBe(ack.yiaddr);
  });

  it('INFORM gets options but no address and no lease time', async () => {
    await startServer();
    const reply = await client.exchange(request(MessageType.INFORM, macBytes(20), { ciaddr: '127.0.0.1' }), server.port);
    expect(getOption(reply, 'messageType')).toBe(MessageType.ACK);
    expect(reply.yiaddr).toBe('0.0.0.0');
    expect(getRaw(reply, 51)).toBeUndefined();
    expect(getOption(reply, 'dns')).toEqual(['127.0.0.53', '127.0.0.54']);
  });

  it('an exhausted pool makes no offer and warns once', async () => {
    await startServer();
    for (const last of [21, 22, 23]) await lease(macBytes(last));
    for (const last of [24, 25]) expect(await client.silent(request(MessageType.DISCOVER, macBytes(last)), server.port)).toEqual([]);
    expect(logs.messages().filter((m) => m.startsWith('address pool exhausted'))).toHaveLength(1);
  });
});

describe('relays, boot information, robustness, restart', () => {
  it('answers a relay at giaddr, port 67 (here the test port), echoing option 82 last', async () => {
    await startServer();
    const discover = request(MessageType.DISCOVER, macBytes(26), { giaddr: '127.0.0.1', hops: 1 });
    setRaw(discover, 82, Uint8Array.of(1, 3, 0x61, 0x62, 0x63));
    const offer = await client.exchange(discover, server.port);
    expect(offer.giaddr).toBe('127.0.0.1');
    expect(offer.options.at(-1)!.code).toBe(82);
    expect([...offer.options.at(-1)!.data]).toEqual([1, 3, 0x61, 0x62, 0x63]);
  });

  it('picks the pool by giaddr: a relayed network gets its own range, mask, router and DNS, and keeps its leases across a restart', async () => {
    // 127.0.1.0/24 is a second "network" that still routes to this test's socket (all of 127/8 is loopback)
    const relayPools = [{ subnet: subnetOf('127.0.1.0', 25), range: { start: '127.0.1.100', end: '127.0.1.100' }, router: '127.0.1.1', dns: ['127.0.1.53'] }];
    await startServer({ relayPools });
    const relayed = (type: number, last: number) => request(type, macBytes(last), { giaddr: '127.0.1.1', hops: 1 });
    const offer = await client.exchange(relayed(MessageType.DISCOVER, 40), server.port);
    expect(offer.yiaddr).toBe('127.0.1.100');
    expect(getOption(offer, 'subnetMask')).toBe('255.255.255.128');
    expect(getOption(offer, 'router')).toEqual(['127.0.1.1']);
    expect(getOption(offer, 'dns')).toEqual(['127.0.1.53']);
    expect(getOption(offer, 'domainName')).toBe('lan'); // dhcp.options apply to every pool
    const req = relayed(MessageType.REQUEST, 40);
    setOption(req, 'serverId', '127.0.0.1');
    setOption(req, 'requestedAddress', offer.yiaddr);
    expect(getOption(await client.exchange(req, server.port), 'messageType')).toBe(MessageType.ACK);
    expect(server.table.leases()).toEqual([]); // the local pool is untouched
    expect(await client.silent(relayed(MessageType.DISCOVER, 41), server.port)).toEqual([]); // that pool is full
    expect((await lease(macBytes(42))).yiaddr).toBe('127.0.0.100'); // the local one is not
    await server.close();
    await startServer({ relayPools });
    expect(server.table.leases().map((l) => l.ip)).toEqual(['127.0.0.100']); // replayed into the right pools
    const again = relayed(MessageType.REQUEST, 41);
    setOption(again, 'requestedAddress', '127.0.1.100');
    expect(getOption(await client.exchange(again, server.port), 'messageType')).toBe(MessageType.NAK);
  });

  it('ignores requests relayed from a network it has no pool for', async () => {
    await startServer();
    expect(await client.silent(request(MessageType.DISCOVER, macBytes(27), { giaddr: '10.1.2.1' }), server.port)).toEqual([]);
  });

  it('gives a FreeBSD-loader-shaped REQUEST the root-path of its host and loader variables', async () => {
    await startServer();
    const ack = await lease(macBytes(7), (p) => {
      setOption(p, 'vendorClass', 'PXEClient');
      setOption(p, 'userClass', rfc3004('FreeBSD'));
      setOption(p, 'parameterList', [17, 12, 16, 3, 1, 26, 54]);
    });
    expect(getOption(ack, 'rootPath')).toBe('127.0.0.1:/var/db/be/envs/head');
    expect(getOption(ack, 'loaderVar250')).toBe('vfs.root.mountfrom=nfs:');
    expect(ack.siaddr).toBe('127.0.0.1');
  });

  it('gives BIOS PXE firmware of a known host pxeboot with consistent file/67 and siaddr/66', async () => {
    await startServer();
    const offer = await client.exchange(
      (() => {
        const p = request(MessageType.DISCOVER, macBytes(7));
        setOption(p, 'vendorClass', 'PXEClient:Arch:00000:UNDI:002001');
        setOption(p, 'clientArch', [0]);
        return p;
      })(),
      server.port,
    );
    expect(offer.file).toBe('head/boot/pxeboot');
    expect(getOption(offer, 'bootFile')).toBe('head/boot/pxeboot');
    expect(offer.siaddr).toBe('127.0.0.1');
    expect(offer.sname).toBe('127.0.0.1');
    expect(getOption(offer, 'tftpServer')).toBe('127.0.0.1');
  });

  it("marks PXEClient offers and ACKs as PXE 2.1 offers (option 43, boot from this file): edk2 firmware's own PXE loads the file instead of asking port 4011", async () => {
    await startServer();
    const uefi = (type: number) => {
      const p = request(type, macBytes(7));
      setOption(p, 'vendorClass', 'PXEClient:Arch:00007:UNDI:003016');
      setOption(p, 'clientArch', [7]);
      return p;
    };
    const offer = await client.exchange(uefi(MessageType.DISCOVER), server.port);
    expect(offer.file).toBe('head/boot/loader.efi');
    expect(getOption(offer, 'vendorClass')).toBe('PXEClient');
    expect([...getRaw(offer, 43)!]).toEqual([6, 1, 8, 255]);
    const request_ = uefi(MessageType.REQUEST);
    setOption(request_, 'serverId', '127.0.0.1');
    setOption(request_, 'requestedAddress', offer.yiaddr);
    const ack = await client.exchange(request_, server.port);
    expect(getOption(ack, 'messageType')).toBe(MessageType.ACK);
    expect([...getRaw(ack, 43)!]).toEqual([6, 1, 8, 255]);
    // An ordinary client gets no PXE vendor options.
    expect(getRaw(await lease(macBytes(29)), 43)).toBeUndefined();
  });

  it('drops malformed datagrams and keeps serving', async () => {
    await startServer();
    const good = encodePacket(request(MessageType.DISCOVER, macBytes(28)));
    await client.send(Uint8Array.of(1, 2, 3), server.port);
    await client.send(good.subarray(0, 239), server.port);
    const bad = Uint8Array.from(good);
    bad[241] = 200; // option 53 claims 200 bytes
    await client.send(bad, server.port);
    const serverId = request(MessageType.DISCOVER, macBytes(28));
    setRaw(serverId, 54, Uint8Array.of(1, 2)); // wrong length for its type
    await client.send(serverId, server.port);
    expect((await lease(macBytes(28))).yiaddr).toMatch(/^127\.0\.0\.10\d$/);
    expect(server.stats.dropped).toBeGreaterThanOrEqual(4);
    expect(logs.lines.some((l) => l.msg === 'malformed DHCP datagram dropped' && typeof l.hex === 'string')).toBe(true);
  });

  it('keeps leases across a restart (replayed from the journal)', async () => {
    await startServer();
    const ack = await lease(macBytes(29));
    await server.close();
    await startServer();
    expect(server.table.holderOf(ack.yiaddr, Date.now())?.client).toBe('hw:1:525400be011d');
    const thief = request(MessageType.REQUEST, macBytes(30));
    setOption(thief, 'requestedAddress', ack.yiaddr);
    expect(getOption(await client.exchange(thief, server.port), 'messageType')).toBe(MessageType.NAK);
  });

  it("tells TFTP who holds an address by the server's own clock (options.now)", async () => {
    let clock = Date.UTC(2026, 10, 27, 12, 0, 0); // a fixed day, far from today's clock
    await startServer({ now: () => clock });
    const ack = await lease(macBytes(31));
    expect(server.holderOf(ack.yiaddr)).toEqual({ mac: '52:54:00:be:01:1f', host: undefined });
    clock += 600_000; // leaseTime
    expect(server.holderOf(ack.yiaddr)).toBeUndefined();
  });
});

describe('start-up', () => {
  it('turns a port already in use into one E_BIND line naming the port, the key and the fix, and leaves nothing open', async () => {
    await startServer();
    const second = new DhcpServer(options({ port: server.port, leaseFile: join(dir, 'other.leases') }));
    await expect(second.start()).rejects.toMatchObject({
      code: 'E_BIND',
      message: `dhcp: cannot bind UDP 127.0.0.1:${server.port}: address already in use (another server holds port ${server.port}): stop it or set dhcp.port to a free port`,
    });
    await second.close(); // idempotent after a failed start
    expect((await lease(macBytes(43))).yiaddr).toMatch(/^127\.0\.0\.10\d$/); // the first one is unharmed
  });
});

describe('bind errors', () => {
  it('says "run as root or dhcp.mode=off" for a privileged port, not "use a higher port" (clients only send to 67)', () => {
    const denied = new BeError('E_BIND', 'dhcp: cannot bind UDP 0.0.0.0:67: permission denied (port 67 is privileged): ...', undefined, {
      cause: Object.assign(new Error('bind EACCES'), { code: 'EACCES' }),
    });
    expect(dhcpBindError(denied)).toMatchObject({
      code: 'E_BIND',
      message:
        'dhcp: cannot bind UDP 0.0.0.0:67: permission denied (DHCP ports are privileged and clients only use 67): run be as root, or set dhcp.mode=off (--set dhcp.mode=off) when another server answers DHCP',
    });
    const inUse = new BeError('E_BIND', 'x', undefined, { cause: Object.assign(new Error('bind EADDRINUSE'), { code: 'EADDRINUSE' }) });
    expect(dhcpBindError(inUse)).toBe(inUse);
  });
});

describe('proxy mode', () => {
  it('answers PXE firmware with boot information and no address, on 67 and on the PXE port', async () => {
    await startServer({ mode: 'proxy', leaseFile: null, proxyPort: 0 });
    const pxe = (type: number) => {
      const p = request(type, macBytes(7));
      setOption(p, 'vendorClass', 'PXEClient:Arch:00007:UNDI:003016');
      setOption(p, 'clientArch', [7]);
      setRaw(p, 97, Uint8Array.of(0, ...new Array<number>(16).fill(7)));
      return p;
    };
    const offer = await client.exchange(pxe(MessageType.DISCOVER), server.port);
    expect(getOption(offer, 'messageType')).toBe(MessageType.OFFER);
    expect(offer.yiaddr).toBe('0.0.0.0');
    expect(offer.file).toBe('head/boot/loader.efi');
    expect(getOption(offer, 'vendorClass')).toBe('PXEClient');
    expect([...getRaw(offer, 43)!]).toEqual([6, 1, 8, 255]);
    expect(getRaw(offer, 97)).toHaveLength(17);
    expect(getRaw(offer, 51)).toBeUndefined();
    expect(getRaw(offer, 3)).toBeUndefined();
    const ack = await client.exchange(pxe(MessageType.REQUEST), server.proxyPort!);
    expect(getOption(ack, 'messageType')).toBe(MessageType.ACK);
    expect(ack.file).toBe('head/boot/loader.efi');
    expect(client.received.at(-1)!.from).toBe(`127.0.0.1:${server.proxyPort}`);
  });

  it('stays silent for ordinary clients and unknown hosts', async () => {
    await startServer({ mode: 'proxy', leaseFile: null });
    const barrier = () => {
      const p = request(MessageType.DISCOVER, macBytes(7));
      setOption(p, 'vendorClass', 'PXEClient');
      return p;
    };
    expect(await client.silent(request(MessageType.DISCOVER, macBytes(7)), server.port, barrier())).toEqual([]);
    const unknown = request(MessageType.DISCOVER, macBytes(99));
    setOption(unknown, 'vendorClass', 'PXEClient');
    expect(await client.silent(unknown, server.port, barrier())).toEqual([]);
    // a PXE client's REQUEST on 67 that does not name us (INIT-REBOOT, or selecting the real server) is not ours
    for (const serverId of [undefined, '127.0.0.9']) {
      const req = request(MessageType.REQUEST, macBytes(7));
      setOption(req, 'vendorClass', 'PXEClient');
      setOption(req, 'requestedAddress', '127.0.0.77');
      if (serverId) setOption(req, 'serverId', serverId);
      expect(await client.silent(req, server.port, barrier())).toEqual([]);
    }
  });
});
