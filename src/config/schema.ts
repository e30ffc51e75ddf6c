/**
 * The configuration schema: one YAML file, validated once at start-up. Every key has a default, so an
 * empty file is a valid configuration; unknown keys are refused, so a typo is named instead of ignored.
 * config/be.example.yaml documents every key; keep the two in step (test/src/config.test.ts checks).
 */
// A namespace import, not `{ z }`: it lets the bundler drop zod's locales (see package.json bundle).
import * as z from 'zod';
import { isMac, normalizeMac, macFormsHelp } from '../mac.js';
import { ipv4ToInt, isIPv4, parseCidr } from '../net.js';
import { encodeValue, optionByName, optionTable } from '../dhcp/options.js';

const ipv4 = z.string().refine(isIPv4, { message: 'must be an IPv4 address (a.b.c.d)' });
const port = z.number().int().min(1).max(65535);
const mac = z
  .string()
  .refine(isMac, { message: `must be a MAC address (${macFormsHelp})` })
  .transform(normalizeMac);
const cidr = z.string().refine(
  (text) => {
    try {
      parseCidr(text);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a network in CIDR form with no host bits set (e.g. 10.99.0.0/24)' },
);
/** A name used in DNS, vmm and file names alike: letters, digits, `-`, `_`, `.`. */
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const server = z.strictObject({
  /** The address clients use to reach us (DHCP next-server, NFS server). null: the first non-loopback IPv4 address. */
  address: ipv4.nullable().default(null),
  /** Where the appliance keeps its state (leases, assignments). */
  stateDir: z.string().min(1).default('/var/db/be'),
  /** The control socket `be` commands use to reach the running appliance; null: stateDir/be.sock. */
  socket: z.string().min(1).nullable().default(null),
  /** Serve the control socket (be status, be vm ..., live assignment changes). */
  control: z.boolean().default(true),
});

const log = z.strictObject({
  level: z.enum(logLevels).default('info'),
});

const tftp = z.strictObject({
  enabled: z.boolean().default(true),
  address: ipv4.default('0.0.0.0'),
  port: port.default(69),
  root: z.string().min(1).default('/var/db/be/tftp'),
  /** RFC 2348 allows 8-65464; 1468 fills one Ethernet frame, which every boot ROM handles. */
  maxBlksize: z.number().int().min(8).max(65464).default(1468),
  /** RFC 7440 window; 1 means lock-step. */
  maxWindowsize: z.number().int().min(1).max(64).default(16),
  maxTransfers: z.number().int().min(1).max(100_000).default(256),
  /** Milliseconds before the first retransmission; it doubles on each retry (capped at 8 s). A client's RFC 2349 timeout option replaces it. */
  retransmit: z.number().int().min(10).max(255_000).default(1000),
  /** Retransmissions of one packet before a transfer is abandoned. */
  retries: z.number().int().min(0).max(100).default(6),
  /** Seconds a transfer may make no progress (client silent, or the file source stalled) before it is abandoned. */
  idleTimeout: z.number().int().min(1).max(3600).default(60),
  /** Worker threads that run transfers of files the main thread opened, so many clients use more than one core; 0 runs them on the main thread. */
  workers: z.number().int().min(0).max(64).default(0),
  /**
   * Microseconds a thread keeps polling for the client's ACK after sending, instead of sleeping, while at
   * most two transfers run on it: on a VM being woken takes longer than the rest of a block's round trip. 0 turns it off (services/tftp/busy-poll.ts).
   */
  busyPoll: z.number().int().min(0).max(100_000).default(1000),
});

const rangeObject = z.strictObject({ start: ipv4, end: ipv4 });
/**
 * An address range: `{ start, end }`, or the shorthand `START-END` dnsmasq users type, and the only
 * practical form with `--set dhcp.range=10.0.0.100-10.0.0.199` on a read-only system.
 */
const range = z
  .preprocess((value, ctx) => {
    if (typeof value !== 'string') return value;
    const match = /^\s*([^\s-]+)\s*-\s*([^\s-]+)\s*$/.exec(value);
    // Checked here, so an error names the key as written (dhcp.range), not a start/end the file does not have.
    const bad = match ? [match[1]!, match[2]!].find((ip) => !isIPv4(ip)) : undefined;
    if (match && bad === undefined) return { start: match[1], end: match[2] };
    const why = bad !== undefined ? `${bad} is not an IPv4 address` : 'must be START-END (e.g. 10.0.0.100-10.0.0.199) or { start, end }';
    ctx.addIssue({ code: 'custom', input: value, message: why });
    return z.NEVER;
  }, rangeObject)
  .refine((r) => !isIPv4(r.start) || !isIPv4(r.end) || ipv4ToInt(r.start) <= ipv4ToInt(r.end), { message: 'start must not come after end' });

/** A network behind a DHCP relay: requests whose giaddr falls in `subnet` get addresses from `range`. */
const dhcpPool = z.strictObject({
  subnet: cidr,
  range,
  router: ipv4.nullable().default(null),
  /** null: the same as dhcp.dns. */
  dns: z.array(ipv4).nullable().default(null),
});

const dhcp = z.strictObject({
  enabled: z.boolean().default(true),
  /** authoritative: hand out addresses; proxy: only boot information to PXE clients (RFC 4578 proxyDHCP); off. */
  mode: z.enum(['authoritative', 'proxy', 'off']).default('proxy'),
  /** The interface whose address, subnet and broadcast the server uses. null: the one holding server.address. */
  interface: z.string().min(1).nullable().default(null),
  range: range.nullable().default(null),
  /** The network of `range` in CIDR form; null: the interface's. Requests relayed from elsewhere (giaddr outside it) are dropped. */
  subnet: cidr.nullable().default(null),
  router: ipv4.nullable().default(null),
  dns: z.array(ipv4).default([]),
  /** More networks, reached through DHCP relays and chosen by giaddr: one appliance, many subnets. */
  pools: z.array(dhcpPool).default([]),
  /** Seconds. */
  leaseTime: z
    .number()
    .int()
    .min(60)
    .max(365 * 86400)
    .default(3600),
  leaseFile: z.string().min(1).default('/var/db/be/dhcp.leases'),
  /** Whether PXE clients not in hosts[] get a boot file (default.yaml: true). */
  bootUnknown: z.boolean().default(false),
  /** The boot environment of hosts not in hosts[] when bootUnknown is true; null: the default root (tftp.root). */
  defaultBe: z.string().min(1).nullable().default(null),
  /** UEFI HTTP boot: the URL under which boot environments' files are served; null: HTTP boot clients get no answer. */
  httpBaseUrl: z
    .string()
    .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
    .nullable()
    .default(null),
  /** Server port (67); another value only for tests and relays that forward elsewhere. */
  port: port.default(67),
  /** Client port replies go to (68). */
  clientPort: port.default(68),
  /** proxyDHCP also listens here (PXE spec: boot server discovery on 4011); null: not at all. */
  proxyPort: port.nullable().default(4011),
  /** Seconds a declined address stays out of the pool (RFC 2131 §4.3.3). */
  declineTime: z
    .number()
    .int()
    .min(0)
    .max(86400 * 30)
    .default(3600),
  /** Extra options for every reply, by option-table name: { ntpServers: [10.0.0.1], domainName: lan }. */
  options: z.record(z.string(), z.unknown()).default({}),
});

/** Settings of a bhyve guest booted with its root on NFS (be bootnfs, the vmtab of be serve). */
const guestFields = {
  /** The vmm instance name; default: the host's name. */
  vm: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/, 'must be 1-31 letters, digits, ".", "_" or "-"'),
  /** bhyve memory: 512M, 2G, or megabytes. */
  memory: z.string().regex(/^\d+[KMGTkmgt]?$/, 'must be a size such as 512M or 2G'),
  cpus: z.number().int().min(1).max(256),
  /** The tap interface of the guest's NIC; default tapN, N the host's place among bhyve hosts. */
  tap: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name'),
  /** A bridge to add the tap to (created tap, `ifconfig BRIDGE addm TAP`); null: leave the tap alone. */
  bridge: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name')
    .nullable(),
  /** stdio (the terminal running be bootnfs) or a null-modem device such as /dev/nmdm0A. */
  console: z.string().regex(/^(stdio|\/dev\/nmdm\d+[AB])$/, 'must be stdio or /dev/nmdmNA'),
  /** auto: virtio-net from FreeBSD 9.0, e1000 before (from the BE's release). */
  nic: z.enum(['auto', 'virtio-net', 'e1000']),
  /** The guest's netmask; null: from nfs.network. */
  netmask: ipv4.nullable(),
  gateway: ipv4.nullable(),
  /** The BE's FreeBSD release, e.g. 14.1-RELEASE; null: read from the BE (bin/freebsd-version, else the kernel). */
  release: z
    .string()
    .regex(/^\d+\.\d+-[A-Z][A-Z0-9]*(-p\d+)?$/, 'must be a release such as 14.1-RELEASE')
    .nullable(),
  /** boot.nfsroot.options for the kernel, e.g. nfsv3,tcp; null: none. */
  nfsOptions: z
    .string()
    .regex(/^[a-z0-9=,:; ]+$/, 'must be options such as nfsv3,tcp')
    .nullable(),
  /** Extra loader variables passed with bhyveload -e. */
  env: z.record(z.string().regex(/^[A-Za-z_][\w.-]*$/, 'a loader variable name is letters, digits, "_", "." and "-"'), z.string()),
};

const bhyve = z.strictObject({
  memory: guestFields.memory.default('1G'),
  cpus: guestFields.cpus.default(1),
  bridge: guestFields.bridge.default(null),
  console: guestFields.console.default('stdio'),
  nic: guestFields.nic.default('auto'),
  netmask: guestFields.netmask.default(null),
  gateway: guestFields.gateway.default(null),
  nfsOptions: guestFields.nfsOptions.default(null),
  env: guestFields.env.default({}),
});

/** Per-host overrides of the bhyve section; a host also names its vm, tap and release. */
const hostGuest = z.strictObject({
  vm: guestFields.vm.optional(),
  memory: guestFields.memory.optional(),
  cpus: guestFields.cpus.optional(),
  tap: guestFields.tap.optional(),
  bridge: guestFields.bridge.optional(),
  console: guestFields.console.optional(),
  nic: guestFields.nic.optional(),
  netmask: guestFields.netmask.optional(),
  gateway: guestFields.gateway.optional(),
  release: guestFields.release.optional(),
  nfsOptions: guestFields.nfsOptions.optional(),
  env: guestFields.env.optional(),
});

const host = z.strictObject({
  name,
  mac,
  ip: ipv4.optional(),
  /** The boot environment this host boots. */
  be: z.string().min(1).optional(),
  /** How it boots: pxe (bare metal or any PXE firmware), bhyve (an NFS-root guest of this machine). */
  boot: z.enum(['pxe', 'bhyve']).default('pxe'),
  /** Until boot environments exist: the NFS path of this host's boot environment (default: be.root/<be>). */
  rootPath: z.string().startsWith('/', 'must be an absolute path').optional(),
  /** A TFTP path or http(s) URL of an iPXE script; iPXE firmware of this host gets it instead of a loader. */
  ipxeScript: z.string().min(1).optional(),
  /** FreeBSD loader variables sent with DHCP options 246-254, e.g. { vfs.root.mountfrom: "nfs:" }. */
  loaderEnv: z
    .record(z.string().regex(/^[A-Za-z0-9_.]+$/, 'a loader variable name is letters, digits, "_" and "."'), z.string().regex(/^[^;]*$/, 'must not contain ";"'))
    .optional(),
  /** boot: bhyve guests only: started and supervised by be serve. */
  autostart: z.boolean().default(false),
  /** boot: bhyve guests only: overrides of the bhyve section. */
  bhyve: hostGuest.optional(),
});

const be = z.strictObject({
  /** dir: each subdirectory of root is a boot environment; zfs: each child dataset of root (POOL/ROOT). */
  backend: z.enum(['dir', 'zfs']).default('dir'),
  root: z.string().min(1).default('/var/db/be/envs'),
  /** `be mount NAME` mounts under mountDir/NAME (the talk's /ROOT/head) unless a directory is given. */
  mountDir: z.string().startsWith('/', 'must be an absolute path').default('/ROOT'),
  /** How a BE is mounted away from its mountpoint property: mount (-t zfs, FreeBSD), property (zfs set mountpoint, zfs-fuse), auto (mount on FreeBSD, else property). */
  mountMethod: z.enum(['auto', 'mount', 'property']).default('auto'),
});

const nfs = z.strictObject({
  /** The clients' network, e.g. 192.168.2.0/24. Exports are refused without it. */
  network: cidr.nullable().default(null),
  maproot: z.string().min(1).default('root'),
  exportsFile: z.string().min(1).default('/etc/exports.be'),
  format: z.enum(['freebsd', 'linux', 'ganesha']).default('freebsd'),
  /** argv run after the exports file changed; null: SIGHUP to the pid in /var/run/mountd.pid. */
  reload: z.array(z.string().min(1)).min(1).nullable().default(null),
  /** The pid file whose process gets SIGHUP when reload is null. */
  pidFile: z.string().min(1).default('/var/run/mountd.pid'),
  /** Allow maproot=root to 0.0.0.0/0; otherwise such an export is refused. */
  allowWorldRoot: z.boolean().default(false),
  /** Seconds between reconciliations of the exports file with the inventory in `be serve`. */
  reconcileInterval: z.number().int().min(1).max(86_400).default(60),
  /** Mount options of the lines `be fstab` writes for the guest. */
  fstabOptions: z
    .string()
    .regex(/^[A-Za-z0-9_=,.-]+$/, 'must be a comma-separated option list without blanks')
    .default('rw'),
  /** argv of a helper that prints the handle of the path appended to it, for servers whose mountd refuses our MOUNT call; null: MOUNT v3 over UDP. */
  handleCommand: z.array(z.string().min(1)).min(1).nullable().default(null),
});

/** Where `be install` gets releases (docs/freebsd-dist-layouts.md). */
const install = z.strictObject({
  /** The mirror root `-p` defaults to: it holds releases/ and snapshots/ (the official server's are under /ftp). */
  mirror: z.string().min(1).default('https://download.freebsd.org/ftp'),
  /** The archive of old releases, tried when the mirror lacks one; its layout has no releases/ level. null: none. */
  archive: z.string().min(1).nullable().default('http://ftp-archive.freebsd.org/pub/FreeBSD-Archive/old-releases'),
  /** Where downloaded sets are kept; null: server.stateDir/dist. Per ARCH/RELEASE below it. */
  cache: z.string().startsWith('/', 'must be an absolute path').nullable().default(null),
});

const wol = z.strictObject({
  broadcast: ipv4.default('255.255.255.255'),
  /** The discard port (9) is the convention; some NICs listen on echo (7). */
  port: port.default(9),
  count: z.number().int().min(1).max(100).default(1),
  /** Milliseconds between packets when count > 1. */
  interval: z.number().int().min(0).max(60_000).default(100),
});

export const configSchema = z
  .strictObject({
    server: server.prefault({}),
    log: log.prefault({}),
    tftp: tftp.prefault({}),
    dhcp: dhcp.prefault({}),
    hosts: z.array(host).default([]),
    be: be.prefault({}),
    nfs: nfs.prefault({}),
    wol: wol.prefault({}),
    install: install.prefault({}),
    bhyve: bhyve.prefault({}),
  })
  .superRefine((config, ctx) => {
    for (const [key, value] of Object.entries(config.dhcp.options)) {
      const spec = optionByName(key);
      if (!spec) {
        ctx.addIssue({
          code: 'custom',
          path: ['dhcp', 'options', key],
          input: key,
          message: `no such DHCP option (known: ${optionTable.map((o) => o.name).join(', ')})`,
        });
        continue;
      }
      try {
        encodeValue(spec, value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['dhcp', 'options', key], input: value, message: (err as Error).message });
      }
    }
    const seen = new Map<string, number>();
    config.hosts.forEach((h, index) => {
      for (const [key, value] of [
        ['name', h.name],
        ['mac', h.mac],
      ] as const) {
        const first = seen.get(`${key}:${value}`);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['hosts', index, key],
            input: value,
            message: `duplicates hosts[${first}].${key}`,
          });
        } else seen.set(`${key}:${value}`, index);
      }
    });
  });

export type Config = z.output<typeof configSchema>;
export type HostConfig = Config['hosts'][number];
