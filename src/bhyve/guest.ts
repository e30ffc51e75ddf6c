/**
 * A bhyve guest whose root file system is a boot environment over NFS, and the two argv lists that
 * start it (FREEBSD.md, "bhyveload" and "Kernel: diskless NFS root"):
 *
 *   bhyveload -c CONSOLE -m MEM -h BE_PATH -e boot.netif.* -e boot.nfsroot.* -e vfs.root.mountfrom=... VM
 *   bhyve -c CPUS -m MEM -H -P -A -s 0,hostbridge -s 1,lpc -s 2,NIC,TAP,mac=MAC -l com1,CONSOLE VM
 *
 * `-h` makes userboot read the loader, kernel and modules from the mounted BE; `-d` is never passed,
 * because with any disk userboot boots the disk and ignores `-h`. userboot has no network driver, so
 * every variable the kernel needs for its NFS root is passed with `-e`.
 */
import { formatMac, parseMac } from '../mac.js';
import { intToIPv4, ipv4ToInt, isIPv4, parseCidr, prefixToMaskInt } from '../net.js';
import { formatHandle, toV2Handle } from '../nfs/handle.js';
import { guestInterfaceName, type Nic } from './release.js';

export class GuestError extends Error {
  override readonly name = 'GuestError';
}

export interface GuestSpec {
  /** The vmm instance name (/dev/vmm/NAME). */
  vm: string;
  /** Where the boot environment is mounted on this machine: bhyveload -h. */
  hostPath: string;
  /** The NFS server the guest mounts its root from (boot.nfsroot.server). */
  server: string;
  /** The exported path of the BE's root (boot.nfsroot.path, vfs.root.mountfrom). */
  exportPath: string;
  /** The handle MOUNT returned for exportPath. */
  handle: Uint8Array;
  nfsVersion: 2 | 3;
  /** boot.nfsroot.options, e.g. `nfsv3,tcp`; omitted when empty. */
  nfsOptions?: string;
  mac: string;
  ip: string;
  netmask: string;
  gateway?: string;
  nic: Nic;
  tap: string;
  /** bhyve/bhyveload memory, normalised to megabytes: `1024M`. */
  memory: string;
  cpus: number;
  /** `stdio` or a null-modem device such as /dev/nmdm0A. */
  console: string;
  /** Extra loader variables, passed with -e after the ones above. */
  env: Readonly<Record<string, string>>;
}

/**
 * vmm names become /dev/vmm/NAME: no `/`, and at most 31 bytes on older kernels (VM_MAX_NAMELEN 32
 * with its NUL). We allow the portable subset.
 */
export function checkVmName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/.test(name)) {
    throw new GuestError(`VM name ${JSON.stringify(name)}: use 1-31 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  return name;
}

const units: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };

/** `512M`, `2G`, `2048` (megabytes, as bhyve reads a bare number) → `2048M`. */
export function parseMemory(text: string): string {
  const match = /^(\d+)([KMGT])?$/i.exec(text.trim());
  const megabytes = match ? Number(match[1]) * units[(match[2] ?? 'M').toUpperCase()]! : NaN;
  if (!Number.isInteger(megabytes) || megabytes < 64) {
    throw new GuestError(`memory ${JSON.stringify(text)}: use a size such as 512M or 2G (at least 64M, whole megabytes)`);
  }
  return `${megabytes}M`;
}

/** Loader-variable names and values as the loader's environment can hold them. */
function checkEnv(env: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][\w.-]*$/.test(name)) throw new GuestError(`loader variable name ${JSON.stringify(name)}: use letters, digits, "_", "." and "-"`);
    if (/[\0\n]/.test(value)) throw new GuestError(`loader variable ${name}: the value may not contain NUL or newline`);
  }
}

/** Checks a spec and returns it with normalised MAC and memory; throws GuestError naming the bad value. */
export function validateGuest(spec: GuestSpec, network?: string): GuestSpec {
  const checked = checkGuestSettings(spec, network);
  checkHandle(spec.handle, spec.nfsVersion);
  return { ...checked, handle: spec.handle };
}

/** The handle rules of the kernel's two diskless paths (FREEBSD.md). */
export function checkHandle(handle: Uint8Array, nfsVersion: 2 | 3): void {
  if (nfsVersion === 3 && (handle.length < 1 || handle.length > 64)) {
    throw new GuestError(`NFS handle of ${handle.length} bytes: NFSv3 handles are 1-64 bytes`);
  }
  if (nfsVersion === 2 && handle.length > 32) {
    throw new GuestError(`NFS handle of ${handle.length} bytes does not fit the 32-byte NFSv2 form this release needs`);
  }
}

/** Everything but the handle, which is known only once the BE is exported. */
export function checkGuestSettings<T extends Omit<GuestSpec, 'handle'>>(spec: T, network?: string): T {
  checkVmName(spec.vm);
  const mac = parseMac(spec.mac);
  if (!mac) throw new GuestError(`MAC ${JSON.stringify(spec.mac)}: not a MAC address`);
  for (const [name, value] of [
    ['IP', spec.ip],
    ['netmask', spec.netmask],
    ['NFS server', spec.server],
    ['gateway', spec.gateway],
  ] as const) {
    if (value !== undefined && !isIPv4(value)) throw new GuestError(`${name} ${JSON.stringify(value)}: not an IPv4 address`);
  }
  const mask = ipv4ToInt(spec.netmask);
  if (((~mask >>> 0) & ((~mask >>> 0) + 1)) !== 0) throw new GuestError(`netmask ${spec.netmask}: not a contiguous mask`);
  const subnet = (ipv4ToInt(spec.ip) & mask) >>> 0;
  const inSubnet = (address: string) => (ipv4ToInt(address) & mask) >>> 0 === subnet;
  if (spec.gateway !== undefined && !inSubnet(spec.gateway)) {
    throw new GuestError(`gateway ${spec.gateway} is not on the guest's subnet ${intToIPv4(subnet)}/${spec.netmask}`);
  }
  if (spec.gateway === undefined && !inSubnet(spec.server)) {
    throw new GuestError(`NFS server ${spec.server} is not on the guest's subnet ${intToIPv4(subnet)}/${spec.netmask} and no gateway is set`);
  }
  if (network !== undefined) {
    const { network: base, prefix } = parseCidr(network);
    const netMask = prefixToMaskInt(prefix);
    if ((ipv4ToInt(spec.ip) & netMask) >>> 0 !== ipv4ToInt(base)) {
      throw new GuestError(`IP ${spec.ip} is outside nfs.network ${network}: the exports would not let the guest mount its root`);
    }
  }
  if (!Number.isInteger(spec.cpus) || spec.cpus < 1 || spec.cpus > 256) throw new GuestError(`cpus ${spec.cpus}: use 1-256`);
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(spec.tap)) throw new GuestError(`tap ${JSON.stringify(spec.tap)}: not an interface name`);
  if (!spec.exportPath.startsWith('/')) throw new GuestError(`export path ${JSON.stringify(spec.exportPath)}: must be absolute`);
  checkEnv(spec.env);
  return { ...spec, mac: formatMac(mac), memory: parseMemory(spec.memory) };
}

/** The loader environment, in the order bhyveload receives it. */
export function guestEnvironment(spec: GuestSpec): [string, string][] {
  const env: [string, string][] = [
    ['boot.netif.name', guestInterfaceName(spec.nic)],
    ['boot.netif.hwaddr', spec.mac],
    ['boot.netif.ip', spec.ip],
    ['boot.netif.netmask', spec.netmask],
  ];
  if (spec.gateway) env.push(['boot.netif.gateway', spec.gateway]);
  env.push(['boot.nfsroot.server', spec.server], ['boot.nfsroot.path', spec.exportPath]);
  if (spec.nfsVersion === 3) {
    env.push(['boot.nfsroot.nfshandle', formatHandle(spec.handle)], ['boot.nfsroot.nfshandlelen', String(spec.handle.length)]);
  } else {
    // No nfshandlelen: the kernel takes the NFSv2 path and wants exactly 32 bytes.
    env.push(['boot.nfsroot.nfshandle', formatHandle(toV2Handle(spec.handle))]);
  }
  if (spec.nfsOptions) env.push(['boot.nfsroot.options', spec.nfsOptions]);
  // With a valid diskless environment the kernel ignores host:path here and uses boot.nfsroot.server,
  // but the root file system type is read from it.
  env.push(['vfs.root.mountfrom', `nfs:${spec.server}:${spec.exportPath}`]);
  for (const [name, value] of Object.entries(spec.env)) env.push([name, value]);
  return env;
}

export function bhyveloadArgv(spec: GuestSpec): string[] {
  const argv = ['bhyveload', '-c', spec.console, '-m', spec.memory, '-h', spec.hostPath];
  for (const [name, value] of guestEnvironment(spec)) argv.push('-e', `${name}=${value}`);
  argv.push(spec.vm);
  return argv;
}

export function bhyveArgv(spec: GuestSpec): string[] {
  return [
    'bhyve',
    '-c',
    String(spec.cpus),
    '-m',
    spec.memory,
    '-H', // yield the CPU when the guest halts
    '-P', // exit on PAUSE
    '-A', // ACPI tables, which FreeBSD guests need
    '-s',
    '0,hostbridge',
    '-s',
    '1,lpc',
    '-s',
    `2,${spec.nic},${spec.tap},mac=${spec.mac}`,
    '-l',
    `com1,${spec.console}`,
    spec.vm,
  ];
}
