/**
 * The configuration schema: one YAML file, validated once at start-up. Every key has a default, so an
 * empty file is a valid configuration; unknown keys are refused, so a typo is named instead of ignored.
 * Each key carries its documentation (`.describe()`, or `.meta()` with the extra fields below): it is the
 * one source of config/be.example.yaml, be.yaml(5) and `be config show --comments` (src/config/docs.ts).
 * Descriptions use backticks for literal text; a paragraph indented four spaces is a literal block.
 */
// A namespace import, not `{ z }`: it lets the bundler drop zod's locales (see package.json bundle).
import * as z from 'zod';
import { isMac, normalizeMac, macFormsHelp } from '../mac.js';
import { ipv4ToInt, isIPv4, parseCidr } from '../net.js';
import { encodeValue, optionByName, optionTable } from '../dhcp/options.js';
import { isIp, isNetwork } from '../http/networks.js';

declare module 'zod' {
  interface GlobalMeta {
    /** What each value of an enum means, in the enum's order. */
    values?: Record<string, string>;
    /** Example values of the key, each a valid value (test/src/config/docs.test.ts parses them). */
    examples?: unknown[];
    /** What a string holds, for the type the manual shows. */
    format?: 'ipv4' | 'ip' | 'cidr' | 'mac' | 'range';
    /** A section whose keys override the same keys of another section (hosts[].bhyve → bhyve). */
    overrides?: string;
  }
}

const ipv4 = z.string().refine(isIPv4, { message: 'must be an IPv4 address (a.b.c.d)' }).meta({ format: 'ipv4' });
/** How a UDP service reaches the network (services/net/datagram.ts). */
const datagrams = z
  .enum(['auto', 'native', 'node'])
  .default('auto')
  .meta({
    description: 'How the sockets reach the network.',
    values: {
      auto: 'the native datagram path when it loads (built by npm run build with the C compiler), else node:dgram; the log says which.',
      native: 'the native path or refuse to start: it knows the interface each request came in on, and answers by it.',
      node: "node:dgram: one broadcast domain (the interface's), replies by the routing table (a broadcast needs a route for 255.255.255.255).",
    },
  });

const port = z.number().int().min(1).max(65535);
const mac = z
  .string()
  .refine(isMac, { message: `must be a MAC address (${macFormsHelp})` })
  .transform(normalizeMac)
  .meta({ format: 'mac' });
const cidr = z
  .string()
  .refine(
    (text) => {
      try {
        parseCidr(text);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be a network in CIDR form with no host bits set (e.g. 10.99.0.0/24)' },
  )
  .meta({ format: 'cidr' });
/** A name used in DNS, vmm and file names alike: letters, digits, `-`, `_`, `.`. */
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const server = z
  .strictObject({
    address: ipv4
      .nullable()
      .default(null)
      .describe(
        'The IPv4 address clients use to reach this machine: DHCP next-server (siaddr), the NFS server in root-path and boot.nfsroot.server. null: the first non-loopback IPv4 address of this machine.',
      ),
    stateDir: z
      .string()
      .min(1)
      .default('/var/db/be')
      .describe(
        'Where the appliance keeps its state: what is shared, mounted and assigned (`be-state.json`), the control socket, downloaded releases (`dist/`) and `be hunt` runs (`hunt/`).',
      ),
    socket: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('The Unix socket (mode 0600) where `be` commands reach the running `be serve` (be status, be vm ...). null: stateDir/be.sock.'),
    control: z.boolean().default(true).describe('Serve that socket at all: `be status`, `be vm` and live assignment changes need it.'),
  })
  .describe('The appliance itself: the address clients reach it at, its state and its control socket.');

const log = z
  .strictObject({
    level: z
      .enum(logLevels)
      .default('info')
      .describe('The least severe messages logged; silent logs nothing. Logs are JSON lines on stdout (pretty on a terminal).'),
  })
  .describe('What `be serve` logs.');

const tftp = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve boot files (pxeboot, loader.efi, kernels) over TFTP.'),
    address: ipv4.default('0.0.0.0').describe('Address to listen on.'),
    port: port.default(69).describe('UDP port to listen on. Port 69 needs root.'),
    root: z.string().min(1).default('/var/db/be/tftp').describe('The directory served to clients that have no boot environment of their own.'),
    maxBlksize: z
      .number()
      .int()
      .min(8)
      .max(65464)
      .default(1468)
      .describe('Largest block size granted (RFC 2348, 8-65464). 1468 fills one Ethernet frame, which every boot ROM handles.'),
    maxWindowsize: z.number().int().min(1).max(64).default(16).describe('Largest window granted (RFC 7440); 1 means lock-step.'),
    maxTransfers: z.number().int().min(1).max(100_000).default(256).describe('Transfers at once; requests beyond it are answered "busy".'),
    retransmit: z
      .number()
      .int()
      .min(10)
      .max(255_000)
      .default(1000)
      .describe(
        "Milliseconds before the first retransmission; doubles on each retry up to 8 s. A client's RFC 2349 timeout option replaces it for that transfer.",
      ),
    retries: z.number().int().min(0).max(100).default(6).describe('Retransmissions of one packet before a transfer is abandoned.'),
    idleTimeout: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(60)
      .describe('Seconds a transfer may make no progress (client silent, or the file source stalled) before it is abandoned.'),
    datagrams,
    workers: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(0)
      .describe('Worker threads that run transfers (many clients then use more than one core); 0: the main thread.'),
    // On a VM being woken takes longer than the rest of a block's round trip (services/tftp/busy-poll.ts).
    busyPoll: z
      .number()
      .int()
      .min(0)
      .max(100_000)
      .default(1000)
      .describe(
        "Microseconds a transfer may keep polling for its client's ACK after each block instead of sleeping, while at most two transfers run on a thread and only while its measured round trips show that polling shortens them. Roughly doubles lock-step throughput where wake-ups are costly (VMs); where the client shares the server's cores, measurement turns it off. 0: never.",
      ),
  })
  .describe('The read-only TFTP server (RFC 1350) for pxeboot, loader.efi, kernels and modules.');

const http = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Serve the boot files over HTTP too, beside TFTP: UEFI HTTP boot, and iPXE scripts that fetch the loader or kernel over HTTP. Off by default, as it opens a TCP port. While it is on and dhcp.httpBaseUrl is null, UEFI HTTP boot clients are sent here.',
      ),
    address: z
      .string()
      .refine(isIp, { message: 'must be an IPv4 or IPv6 address' })
      .default('0.0.0.0')
      .meta({ format: 'ip', description: 'Address to listen on: IPv4, or IPv6 (the IPv6 any-address :: listens on IPv6 and IPv4 alike).' }),
    port: port.default(8080).describe('TCP port to listen on. The default needs no root; 80 does.'),
    allow: z
      .array(
        z
          .string()
          .refine(isNetwork, { message: 'must be an IPv4 or IPv6 network in CIDR form with no host bits set (e.g. 10.99.0.0/24, fd00::/8)' })
          .meta({ format: 'cidr' }),
      )
      .default(['127.0.0.0/8', '::1/128'])
      .meta({
        description:
          'Networks whose clients may see the status page (`/`), the API (`/api/...`) and the metrics (`/metrics`); others get 403. Boot files are open to every client, as over TFTP.',
        examples: [['127.0.0.0/8', '::1/128', '10.99.0.0/24']],
      }),
    token: z
      .string()
      .regex(/^\S+$/, 'must be one word without blanks')
      .nullable()
      .default(null)
      .describe(
        "The API's actions (POST /api/hosts/NAME/wake and /assign) need `Authorization: Bearer TOKEN` from every client, in `allow` or not; null: actions are refused (403). A client outside `allow` that sends it may also read the page, the API and the metrics.",
      ),
  })
  .describe(
    'The HTTP server: the files TFTP serves, by the same names and with the same refusals, with Range requests; and, for the networks in `allow`, the status page, API and metrics.',
  );

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
  .refine((r) => !isIPv4(r.start) || !isIPv4(r.end) || ipv4ToInt(r.start) <= ipv4ToInt(r.end), { message: 'start must not come after end' })
  .meta({ format: 'range' });

const dhcpPool = z.strictObject({
  subnet: cidr.describe('The network behind the relay, in CIDR form: a relayed request whose giaddr lies in it gets an address from this pool.'),
  range: range.describe('The dynamic pool of that network, in either form of dhcp.range.'),
  router: ipv4.nullable().default(null).describe('Default gateway (option 3) handed to its clients; null to send none.'),
  dns: z.array(ipv4).nullable().default(null).describe('DNS servers (option 6) handed to its clients; null: the same as dhcp.dns.'),
  interface: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,15}$/, 'must be an interface name')
    .nullable()
    .default(null)
    .describe(
      "A network this machine is on itself, by this interface, rather than behind a relay: requests that arrive there are served from this pool, with this machine's address on it as server and next-server. Needs the native datagram path (dhcp.datagrams auto or native). null: behind a relay.",
    ),
});

const dhcp = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Answer DHCP at all.'),
    mode: z
      .enum(['authoritative', 'proxy', 'off'])
      .default('proxy')
      .meta({
        description: 'What the server answers.',
        values: {
          authoritative: 'hand out addresses from `range` and hosts[] reservations.',
          proxy:
            "answer only PXE clients with boot information (next-server, boot file) and no address, beside the LAN's own DHCP server (proxyDHCP, RFC 4578).",
          off: 'no DHCP answers.',
        },
      }),
    interface: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('The interface whose address, subnet and broadcast address the server uses. null: the interface that holds server.address.'),
    datagrams: datagrams,
    range: range
      .nullable()
      .default(null)
      .describe(
        "The dynamic pool (authoritative mode), e.g. `{start: 10.99.0.100, end: 10.99.0.199}`, or the shorthand `10.99.0.100-10.99.0.199` (dnsmasq's form; `--set dhcp.range=10.99.0.100-10.99.0.199`). null: reservations only.",
      ),
    subnet: cidr
      .nullable()
      .default(null)
      .describe(
        "The network of `range` in CIDR form, e.g. 10.99.0.0/24. null: the interface's network. Set it when the pool sits behind a DHCP relay (giaddr); requests relayed from another network are dropped.",
      ),
    router: ipv4.nullable().default(null).describe('Default gateway (option 3) handed to clients; null to send none.'),
    dns: z.array(ipv4).default([]).describe('DNS servers (option 6) handed to clients; [] to send none.'),
    pools: z
      .array(dhcpPool)
      .default([])
      .meta({
        description:
          "More networks (authoritative mode): one appliance, many subnets, each behind a DHCP relay (a relayed request whose giaddr lies in a pool's `subnet` gets an address from its `range`, its `router`, and its `dns`) or on an interface of this machine (`interface`).",
        examples: [[{ subnet: '10.98.0.0/24', range: '10.98.0.100-10.98.0.199', router: '10.98.0.1', dns: null }]],
      }),
    leaseTime: z
      .number()
      .int()
      .min(60)
      .max(365 * 86400)
      .default(3600)
      .describe('Lease time in seconds (60 to one year).'),
    leaseFile: z.string().min(1).default('/var/db/be/dhcp.leases').describe("The lease journal (append-only, fsync'ed before every ACK)."),
    bootUnknown: z.boolean().default(false).describe('Whether PXE clients not listed in hosts[] get a boot file (the embedded default says true).'),
    defaultBe: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('The boot environment those unknown hosts boot when bootUnknown is true; null: the boot/ of the default root (tftp.root).'),
    httpBaseUrl: z
      .string()
      .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
      .nullable()
      .default(null)
      .describe(
        "UEFI HTTP boot (option 60 HTTPClient): base URL of the boot environments' files, e.g. http://10.99.0.1/be; a client gets the base, then its loader's TFTP name (`head/boot/loader.efi`). null: this appliance's HTTP service (`http://SERVER:PORT/`, SERVER the next-server address DHCP hands out) while http.enabled is true; otherwise HTTP boot clients get no answer.",
      ),
    port: port.default(67).describe("The server's UDP port (67). Change it only for tests or a relay that forwards elsewhere."),
    clientPort: port.default(68).describe("The clients' UDP port replies go to (68). Change it only for tests or a relay that forwards elsewhere."),
    // PXE specification: boot server discovery on 4011.
    proxyPort: port.nullable().default(4011).describe('The PXE boot-server port proxyDHCP also answers on (4011); null: not at all.'),
    declineTime: z
      .number()
      .int()
      .min(0)
      .max(86400 * 30)
      .default(3600)
      .describe('Seconds an address a client declined (DHCPDECLINE: someone else uses it) stays out of the pool (RFC 2131 §4.3.3).'),
    options: z
      .record(z.string(), z.unknown())
      .default({})
      .meta({
        description: 'Extra options sent in every reply, by name from the option table (the DHCP OPTIONS of be.yaml(5)).',
        examples: [{ ntpServers: ['10.99.0.1'], domainName: 'lan', interfaceMtu: 1500 }],
      }),
  })
  .describe("The DHCP server: authoritative, or proxyDHCP beside the LAN's own server, PXE-aware either way.");

/** Settings of a bhyve guest booted with its root on NFS (be bootnfs, the vmtab of be serve). */
const guestFields = {
  vm: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/, 'must be 1-31 letters, digits, ".", "_" or "-"')
    .describe("The vmm instance name; default: the host's name."),
  memory: z
    .string()
    .regex(/^\d+[KMGTkmgt]?$/, 'must be a size such as 512M or 2G')
    .describe('bhyve and bhyveload memory: 512M, 2G, or megabytes.'),
  cpus: z.number().int().min(1).max(256).describe('Virtual CPUs of the guest.'),
  tap: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name')
    .describe("The tap interface of the guest's NIC; default tapN, N the host's place among bhyve hosts."),
  bridge: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name')
    .nullable()
    .describe("A bridge the guest's tap is added to (e.g. bridge0); null: the tap is left as it is."),
  console: z
    .string()
    .regex(/^(stdio|\/dev\/nmdm\d+[AB])$/, 'must be stdio or /dev/nmdmNA')
    .describe('The guest console: stdio (the terminal running be bootnfs) or a null-modem device, /dev/nmdmNA.'),
  nic: z.enum(['auto', 'virtio-net', 'e1000']).describe("auto: virtio-net for FreeBSD 9.0 and later, e1000 before (from the boot environment's release)."),
  netmask: ipv4.nullable().describe("The guest's netmask; null: from nfs.network."),
  gateway: ipv4.nullable().describe("The guest's default gateway; null: none."),
  release: z
    .string()
    .regex(/^\d+\.\d+-[A-Z][A-Z0-9]*(-p\d+)?$/, 'must be a release such as 14.1-RELEASE')
    .nullable()
    .describe("The boot environment's FreeBSD release, e.g. 14.1-RELEASE; default: read from it (bin/freebsd-version, else the kernel)."),
  nfsOptions: z
    .string()
    .regex(/^[a-z0-9=,:; ]+$/, 'must be options such as nfsv3,tcp')
    .nullable()
    .describe('boot.nfsroot.options for the guest kernel, e.g. nfsv3,tcp; null: none.'),
  env: z
    .record(z.string().regex(/^[A-Za-z_][\w.-]*$/, 'a loader variable name is letters, digits, "_", "." and "-"'), z.string())
    .describe('Extra loader variables for every guest (bhyveload -e NAME=VALUE), e.g. {kern.hz: "100"}.'),
};

const bhyve = z
  .strictObject({
    memory: guestFields.memory.default('1G'),
    cpus: guestFields.cpus.default(1),
    bridge: guestFields.bridge.default(null),
    console: guestFields.console.default('stdio'),
    nic: guestFields.nic.default('auto'),
    netmask: guestFields.netmask.default(null),
    gateway: guestFields.gateway.default(null),
    nfsOptions: guestFields.nfsOptions.default(null),
    env: guestFields.env.default({}),
  })
  .describe('Defaults for bhyve guests booted with their root on NFS (`be bootnfs`, and hosts with boot: bhyve).');

/** Per-host overrides of the bhyve section; a host also names its vm, tap and release. */
const hostGuest = z
  .strictObject({
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
  })
  .meta({
    description: "bhyve guests: overrides of the keys of the bhyve section, and the guest's vm, tap and release.",
    overrides: 'bhyve',
  });

const host = z.strictObject({
  name: name.describe('A short name (letters, digits, ".", "_", "-"), used by `be wol NAME` and in logs.'),
  mac: mac.describe('Its MAC address in any usual form (aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff, aabbccddeeff).'),
  ip: ipv4.optional().describe("A fixed address (a DHCP reservation, or the guest's boot.netif.ip for bhyve); optional."),
  be: z.string().min(1).optional().describe('The boot environment it boots; optional.'),
  boot: z
    .enum(['pxe', 'bhyve'])
    .default('pxe')
    .meta({ description: 'How it boots.', values: { pxe: 'bare metal or any PXE firmware.', bhyve: 'an NFS-root guest of this machine.' } }),
  rootPath: z
    .string()
    .startsWith('/', 'must be an absolute path')
    .optional()
    .describe('The NFS path of its boot environment (DHCP root-path); default be.root/<be>.'),
  ipxeScript: z.string().min(1).optional().describe('A TFTP path or http(s) URL of an iPXE script its iPXE firmware gets instead of a loader.'),
  loaderEnv: z
    .record(z.string().regex(/^[A-Za-z0-9_.]+$/, 'a loader variable name is letters, digits, "_" and "."'), z.string().regex(/^[^;]*$/, 'must not contain ";"'))
    .optional()
    .describe('FreeBSD loader variables sent with DHCP options 246-254, e.g. {vfs.root.mountfrom: "nfs:"}.'),
  autostart: z.boolean().default(false).describe('bhyve guests: started and supervised by `be serve`.'),
  bhyve: hostGuest.optional(),
});

const be = z
  .strictObject({
    backend: z
      .enum(['dir', 'zfs'])
      .default('dir')
      .meta({
        description: 'What a boot environment is.',
        values: {
          dir: 'each subdirectory of `root` is a boot environment (no ZFS needed).',
          zfs: 'each child dataset of `root` (POOL/ROOT) is a boot environment, with its nested datasets.',
        },
      }),
    root: z
      .string()
      .min(1)
      .default('/var/db/be/envs')
      .describe('The directory (dir) or the dataset (zfs, e.g. zroot/ROOT) whose children are the boot environments.'),
    mountDir: z
      .string()
      .startsWith('/', 'must be an absolute path')
      .default('/ROOT')
      .describe('`be mount NAME` mounts the BE and its nested datasets under mountDir/NAME unless given a directory.'),
    mountMethod: z
      .enum(['auto', 'mount', 'property'])
      .default('auto')
      .meta({
        description: 'How a BE is mounted away from its mountpoint property.',
        values: {
          auto: 'mount on FreeBSD, property elsewhere.',
          mount: '`mount -t zfs`, FreeBSD, properties untouched.',
          property: '`zfs set mountpoint` then `zfs mount`, for zfs-fuse; `be umount` restores it.',
        },
      }),
  })
  .describe('Where boot environments live, and how `be mount` mounts them.');

const nfs = z
  .strictObject({
    network: cidr.nullable().default(null).describe("The clients' network, e.g. 192.168.2.0/24. Exports are refused while it is null."),
    maproot: z.string().min(1).default('root').describe("exports(5) -maproot user for the clients' root."),
    exportsFile: z
      .string()
      .min(1)
      .default('/etc/exports.be')
      .describe(
        'The exports file be owns and rewrites, only when its content changes; it never touches another file. FreeBSD: name it to mountd in /etc/rc.conf, beside /etc/exports (naming any file replaces the default):\n\n    mountd_flags="-r -S /etc/exports /etc/exports.be"',
      ),
    format: z
      .enum(['freebsd', 'linux', 'ganesha'])
      .default('freebsd')
      .meta({
        description: 'Format of that file.',
        values: { freebsd: 'exports(5) of mountd.', linux: 'exports(5) of knfsd.', ganesha: 'EXPORT blocks for the VFS FSAL of nfs-ganesha.' },
      }),
    reload: z
      .array(z.string().min(1))
      .min(1)
      .nullable()
      .default(null)
      .describe('The command (argv list) that makes the NFS server re-read the file, e.g. [service, mountd, reload]. null: send SIGHUP to the pid in pidFile.'),
    pidFile: z.string().min(1).default('/var/run/mountd.pid').describe("With reload null: the pid file of the process that gets SIGHUP (mountd's)."),
    allowWorldRoot: z.boolean().default(false).describe('Exporting with maproot root to 0.0.0.0/0 is refused unless this is true (or --force is given).'),
    reconcileInterval: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(60)
      .describe('`be serve` rewrites the exports file from the inventory every this many seconds, and on SIGHUP.'),
    fstabOptions: z
      .string()
      .regex(/^[A-Za-z0-9_=,.-]+$/, 'must be a comma-separated option list without blanks')
      .default('rw')
      .describe("Mount options of the guest's /etc/fstab lines that `be fstab` and `be sharenfs --fstab` write."),
    handleCommand: z
      .array(z.string().min(1))
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'An external helper (argv) that prints the NFS handle of the path appended to it, for servers whose mountd refuses MOUNT calls from this machine; null: be asks mountd itself (MOUNT v3 over UDP).',
      ),
  })
  .describe('The NFS exports be generates, one per dataset of each shared boot environment, and how the NFS server re-reads them.');

/** Where `be install` gets releases (docs/freebsd-dist-layouts.md). */
const install = z
  .strictObject({
    mirror: z
      .string()
      .min(1)
      .default('https://download.freebsd.org/ftp')
      .describe(
        'The root -p defaults to, holding releases/<arch>/<arch>/<R>/ (9.0+: MANIFEST and *.txz) and releases/<arch>/<R>/ (5.x-8.x split sets), and snapshots/; an http(s) URL or a local directory. The official server serves them under /ftp.',
      ),
    archive: z
      .string()
      .min(1)
      .nullable()
      .default('http://ftp-archive.freebsd.org/pub/FreeBSD-Archive/old-releases')
      .describe('The archive of releases no longer on the mirror (no releases/ level), tried after it; null: none.'),
    cache: z
      .string()
      .startsWith('/', 'must be an absolute path')
      .nullable()
      .default(null)
      .describe('Where downloaded sets are kept (verified, resumable), per ARCH/RELEASE below it; null: server.stateDir/dist.'),
  })
  .describe('Where `be install` gets FreeBSD releases.');

const wol = z
  .strictObject({
    broadcast: ipv4.default('255.255.255.255').describe('Where `be wol` sends magic packets: the limited broadcast or a directed one such as 10.99.0.255.'),
    port: port.default(9).describe('UDP port: 9 (discard) by convention; some NICs listen on 7 (echo).'),
    count: z.number().int().min(1).max(100).default(1).describe('How many times each packet is sent.'),
    interval: z.number().int().min(0).max(60_000).default(100).describe('Milliseconds between repeats when count is more than 1.'),
  })
  .describe('The defaults of `be wol`.');

/** The hosts of config/be.example.yaml: a bhyve guest and a PXE machine, every host key used once. */
const exampleHosts = [
  {
    name: 'head',
    mac: '02:01:02:03:04:05',
    ip: '192.168.2.202',
    be: 'head',
    boot: 'bhyve',
    autostart: true,
    bhyve: { vm: 'head', memory: '2G', tap: 'tap0', console: '/dev/nmdm0A' },
  },
  {
    name: 'lab1',
    mac: '02:00:00:00:01:01',
    ip: '192.168.2.101',
    be: 'stable-14',
    rootPath: '/ROOT/stable-14',
    ipxeScript: 'boot/lab1.ipxe',
    loaderEnv: { 'boot.nfsroot.options': 'nfsv3,tcp' },
  },
];

export const configSchema = z
  .strictObject({
    server: server.prefault({}),
    log: log.prefault({}),
    tftp: tftp.prefault({}),
    http: http.prefault({}),
    dhcp: dhcp.prefault({}),
    hosts: z
      .array(host)
      .default([])
      .meta({ description: 'The machines this appliance knows.', examples: [exampleHosts] }),
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
