/** The `dhcp` service kind for the supervisor: a DhcpServer built from the `dhcp`, `hosts`, `server` and `be` sections. */
import { join } from 'node:path';
import type { Config, HostConfig } from '../../src/config/schema.js';
import type { BootEnvironment } from '../../src/dhcp/policy.js';
import { BeError } from '../../src/errors.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext, ServiceKind } from '../service.js';
import { defaultHttpBaseUrl } from '../../src/http/route.js';
import { parseCidr } from '../../src/net.js';
import { datagramPath, interfaceIndex, logDatagramPath } from '../net/datagram.js';
import { readInterfaces, type InterfaceAddress } from '../net/interfaces.js';
import { inSubnet, servedNetwork, subnetOf, type ServedNetwork, type Subnet } from './network.js';
import type { BootCatalogue, BootSnapshot } from '../boot/catalogue.js';
import { DhcpServer, type BootAck, type DhcpHost, type DhcpServerOptions, type PoolSpec } from './server.js';

/**
 * A host's boot environment for the policy: its root-path is hosts[].rootPath, else where the
 * inventory finds the BE mounted now (a zfs BE under /ROOT/head), else be.root/NAME.
 */
export function environmentOf(name: string, config: Config, host?: HostConfig, catalogue?: BootCatalogue): BootEnvironment {
  return { name, tftpPrefix: `${name}/`, nfsPath: host?.rootPath ?? catalogue?.rootOf(name) ?? join(config.be.root, name) };
}

/**
 * What hosts not in hosts[] boot when dhcp.bootUnknown is true: dhcp.defaultBe, else the shared
 * default root (tftp.root, whose boot/ a fresh appliance serves to every PXE client).
 */
export function defaultEnvironment(config: Config, catalogue?: BootCatalogue): BootEnvironment | undefined {
  if (!config.dhcp.bootUnknown) return undefined;
  if (config.dhcp.defaultBe !== null) return environmentOf(config.dhcp.defaultBe, config, undefined, catalogue);
  return { name: 'tftp.root', tftpPrefix: '', nfsPath: config.tftp.root };
}

/** The hosts and the default boot environment as the server needs them, from one boot snapshot. */
export function bootHosts({ config, catalogue }: BootSnapshot): { hosts: DhcpHost[]; defaultEnv: BootEnvironment | undefined } {
  const hosts = config.hosts.map((h) => ({
    name: h.name,
    mac: h.mac,
    ip: h.ip,
    ipxeScript: h.ipxeScript,
    loaderEnv: h.loaderEnv,
    env: h.be !== undefined ? environmentOf(h.be, config, h, catalogue) : undefined,
  }));
  return { hosts, defaultEnv: defaultEnvironment(config, catalogue) };
}

/**
 * The other networks (dhcp.pools), each range checked against its subnet: behind relays, or on an
 * interface of this machine (`interface`), whose address there is then our server address for it.
 */
function relayPoolsOf(config: Config, interfaces: readonly InterfaceAddress[]): PoolSpec[] {
  return config.dhcp.pools.map((p, index): PoolSpec => {
    const cidr = parseCidr(p.subnet);
    const subnet = subnetOf(cidr.network, cidr.prefix);
    for (const [key, ip] of [
      ['start', p.range.start],
      ['end', p.range.end],
    ] as const) {
      if (!inSubnet(ip, subnet)) throw new BeError('E_CONFIG', `dhcp.pools[${index}].range.${key} ${ip} is not in its subnet ${p.subnet}`);
    }
    const spec = { subnet, range: p.range, router: p.router, dns: p.dns ?? config.dhcp.dns };
    if (p.interface === null) return spec;
    const key = `dhcp.pools[${index}].interface ${p.interface}`;
    const path = datagramPath(config.dhcp.datagrams, 'dhcp.datagrams');
    if (path.path !== 'native') {
      throw new BeError('E_CONFIG', `${key}: serving a network by its interface needs the native datagram path, and this one is node (${path.why})`);
    }
    const own = interfaces.find((a) => a.name === p.interface && inSubnet(a.address, subnet));
    if (!own) {
      const has = interfaces.filter((a) => a.name === p.interface).map((a) => `${a.address}/${a.prefix}`);
      throw new BeError('E_CONFIG', `${key} has no address in ${p.subnet} (${has.length ? `it has ${has.join(', ')}` : 'no such interface with IPv4'})`);
    }
    const ifindex = interfaceIndex(p.interface);
    if (ifindex === 0) throw new BeError('E_CONFIG', `${key}: no interface of that name`);
    const httpBaseUrl = config.dhcp.httpBaseUrl ?? defaultHttpBaseUrl(config.http, own.address);
    return { ...spec, direct: { interface: p.interface, ifindex, serverAddress: own.address, httpBaseUrl } };
  });
}

/** Every reservation (hosts[].ip) must be on a network this server hands addresses out on. */
export function checkReservations(config: Config, subnets: readonly Subnet[]): void {
  if (config.dhcp.mode !== 'authoritative') return;
  config.hosts.forEach((h, index) => {
    if (h.ip !== undefined && !subnets.some((s) => inSubnet(h.ip!, s))) {
      const served = subnets.map((s) => `${s.network}/${s.prefix}`).join(', ');
      throw new BeError('E_CONFIG', `hosts[${index}].ip ${h.ip} (${h.name}) is on no network this DHCP server serves (${served})`);
    }
  });
}

export function serverOptions(config: Config, log: Logger, net: ServedNetwork, boot: BootSnapshot = { config, catalogue: undefined }): DhcpServerOptions {
  const dhcp = config.dhcp;
  if (dhcp.mode === 'authoritative') {
    for (const [key, ip] of [
      ['dhcp.range.start', dhcp.range?.start],
      ['dhcp.range.end', dhcp.range?.end],
    ] as const) {
      if (ip !== undefined && !inSubnet(ip, net.subnet)) {
        throw new BeError(
          'E_CONFIG',
          `${key} ${ip} is not in ${net.subnet.network}/${net.subnet.prefix}: set dhcp.subnet or dhcp.interface to the pool's network`,
        );
      }
    }
    if (dhcp.range === null && !config.hosts.some((h) => h.ip)) {
      log.warn('dhcp: authoritative mode with no dhcp.range and no hosts[].ip: no client can get an address');
    }
  }
  const relayPools = relayPoolsOf(config, net.interfaces ?? []);
  checkReservations(boot.config, [net.subnet, ...relayPools.map((p) => p.subnet)]);
  return {
    mode: dhcp.mode === 'proxy' ? 'proxy' : 'authoritative',
    bindAddress: '0.0.0.0',
    port: dhcp.port,
    proxyPort: dhcp.proxyPort,
    clientPort: dhcp.clientPort,
    relayPort: dhcp.port,
    broadcastAddress: '255.255.255.255',
    serverAddress: net.address,
    subnet: net.subnet,
    range: dhcp.range,
    relayPools,
    router: dhcp.router,
    dns: dhcp.dns,
    leaseTime: dhcp.leaseTime,
    declineTime: dhcp.declineTime,
    extraOptions: dhcp.options,
    ...bootHosts(boot),
    // UEFI HTTP boot: the configured base, else our own HTTP service at the next-server address.
    policy: { serverAddress: net.address, bootUnknown: dhcp.bootUnknown, httpBaseUrl: dhcp.httpBaseUrl ?? defaultHttpBaseUrl(config.http, net.address) },
    leaseFile: dhcp.mode === 'authoritative' ? dhcp.leaseFile : null,
    datagrams: dhcp.datagrams,
    ...(net.interface ? { servedInterface: net.interface } : {}),
    log,
  };
}

/**
 * The served network, from interface addresses that include interfaces without carrier (a bridge
 * whose taps no guest has opened yet, a NIC with its cable out at boot): the server starts anyway,
 * says so once, and answers as soon as the link comes up (its socket listens on every interface).
 */
export async function networkToServe(config: Config, log: Logger): Promise<ServedNetwork> {
  const interfaces = await readInterfaces();
  const net = { ...servedNetwork(config, interfaces), interfaces };
  if (!net.carrier) {
    log.warn(
      { interface: net.interface, address: net.address },
      `dhcp: interface ${net.interface} has no carrier: serving anyway, clients are answered once its link is up`,
    );
  }
  return net;
}

class DhcpService implements Service {
  readonly name = 'dhcp';
  private server: DhcpServer | undefined;
  private subnets: Subnet[] = [];
  private unregister: (() => void)[] = [];

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly context: ServiceContext,
  ) {}

  async start(): Promise<void> {
    const net = await networkToServe(this.config, this.log);
    const options = serverOptions(this.config, this.log, net, this.context.boot.current);
    this.subnets = [options.subnet, ...(options.relayPools ?? []).map((p) => p.subnet)];
    const metrics = this.context.metrics;
    logDatagramPath(this.log, options.datagrams ?? 'auto', 'dhcp.datagrams', 'dhcp');
    const server = new DhcpServer({ ...options, onBootAck: (ack) => this.reportBoot(ack), onPacket: (type, outcome) => metrics.dhcpPacket(type, outcome) });
    await server.start();
    this.server = server;
    // Assignments, hosts and where BEs are mounted reach the running server without a new socket.
    this.unregister.push(
      this.context.boot.onChange((snapshot) => {
        const { hosts, defaultEnv } = bootHosts(snapshot);
        server.setHosts(hosts, defaultEnv);
      }),
      this.context.commands.register('dhcp.holderOf', (params) => (typeof params.ip === 'string' ? (server.holderOf(params.ip) ?? null) : null)),
      this.context.commands.register('dhcp.leases', () => server.leaseRows()),
      this.context.commands.register('dhcp.pools', () => server.poolReports()),
    );
  }

  /** A reload keeps this server when only hosts[] or assignments change: refuse reservations it could not serve. */
  check(config: Config): void {
    checkReservations(config, this.subnets);
  }

  /**
   * Firmware and then the FreeBSD loader each run DHCP: two steps of a boot timeline. A plain client
   * that gets a root-path is the loader's step too: it is the request that hands out the root (the
   * end-to-end tests' Linux guest asks this way); counting it as firmware would start a new boot.
   */
  private reportBoot(ack: BootAck): void {
    const rootStep = ack.kind === 'freebsd-loader' || ack.kind === 'plain';
    if (ack.kind === 'plain' && !ack.rootPath) return;
    const detail = rootStep ? ack.rootPath : ack.file;
    this.context.bootEvent({
      step: rootStep ? 'loader-dhcp' : 'firmware-dhcp',
      ...(ack.mac ? { mac: ack.mac } : {}),
      ...(ack.ip ? { ip: ack.ip } : {}),
      ...(ack.host ? { host: ack.host } : {}),
      ...(detail ? { detail } : {}),
    });
  }

  async close(): Promise<void> {
    for (const unregister of this.unregister.splice(0)) unregister();
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }
}

export const dhcpKind: ServiceKind = {
  name: 'dhcp',
  enabled: (config) => config.dhcp.enabled && config.dhcp.mode !== 'off',
  // hosts[] and be.* are not settings: they reach the running server through the boot snapshot (setHosts).
  // http's address and port make the default dhcp.httpBaseUrl.
  settings: (config) => ({
    dhcp: config.dhcp,
    server: config.server,
    http: { enabled: config.http.enabled, address: config.http.address, port: config.http.port },
  }),
  create: (context: ServiceContext) => new DhcpService(context.config, context.log, context),
};
