/**
 * What the three runners run, as data built by pure functions (STYLE.md principle 6): the jail(8)
 * argv `be jail` and the jail runner use, the kernel-compatibility check before an old userland runs,
 * the chroot runner's mounts, and the rc script the bhyve runner places in a boot environment.
 *
 * The jail follows `bectl jail` (sbin/bectl/bectl_jail.c): it sets persist, allow.mount,
 * allow.mount.devfs and enforce_statfs=1, host.hostname=BE and path=where the BE is mounted, lets
 * `-o name=value` override any of them, and refuses `command`, `exec.start`, `nopersist` and
 * `persist` (matched as prefixes, as bectl does). We add `name=` (so jexec and `jail -r` find it) and
 * `mount.devfs` (jail(8) mounts devfs on path/dev with ruleset 4, devfsrules_jail).
 */
import { joinPath } from '../be/inventory.js';
import { parseRelease, type Release } from '../bhyve/release.js';
import { BeError } from '../errors.js';
import { shellCommand } from '../shell.js';

/** One `-o` parameter: `name=value`, or a bare boolean such as `persist` (only in be's own defaults). */
export interface JailParameter {
  name: string;
  /** null: the bare boolean form (`mount.devfs`). */
  value: string | null;
}

/** bectl_jail.c's disabled_params, with why each one is refused here. */
const refused: readonly (readonly [prefix: string, why: string])[] = [
  ['command', 'be jail runs the command itself, with jexec: give it after --'],
  ['exec.start', 'be jail runs the command itself, with jexec: give it after --'],
  ['nopersist', 'the jail must outlive each jexec; be removes it when the command ends (or keeps it with --keep)'],
  ['persist', 'the jail must outlive each jexec; be removes it when the command ends (or keeps it with --keep)'],
];

/** Parameters be sets itself and does not let -o move. */
const owned: Readonly<Record<string, string>> = {
  path: 'the jail is where the boot environment is mounted: mount it elsewhere with be mount NAME DIR first',
};

/** Parse and check one `-o PARAM=VALUE`; refusals are one-line usage errors naming the parameter. */
export function parseJailParameter(text: string): JailParameter {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new BeError('E_USAGE', `-o ${text}: expected PARAM=VALUE, as bectl jail takes it (booleans: PARAM=true or PARAM=false)`);
  const name = text.slice(0, eq);
  const value = text.slice(eq + 1);
  for (const [prefix, why] of refused) {
    if (name.startsWith(prefix)) throw new BeError('E_USAGE', `-o ${name}: refused, as bectl jail refuses it: ${why}`);
  }
  if (owned[name]) throw new BeError('E_USAGE', `-o ${name}: refused: ${owned[name]}`);
  return { name, value };
}

/**
 * A jail name from a BE name. Jail names may not contain "." (it separates hierarchical jails) and a
 * name that is a number would be read as a jid, so dots become "_" and a numeric name gets "be_".
 */
export function jailName(be: string): string {
  const name = be.replace(/[^A-Za-z0-9_-]/g, '_');
  return /^\d+$/.test(name) ? `be_${name}` : name;
}

/**
 * The key under which two spellings of one parameter are the same: a boolean's `no` form
 * (`allow.nomount`, `mount.nodevfs`) is the parameter it negates.
 */
function key(name: string): string {
  const dot = name.lastIndexOf('.');
  const last = name.slice(dot + 1);
  return last.startsWith('no') && last.length > 2 ? `${name.slice(0, dot + 1)}${last.slice(2)}` : name;
}

export interface JailSpec {
  /** The jail's name (jailName of the BE unless -o name=... says otherwise). */
  name: string;
  /** Where the BE is mounted. */
  root: string;
  /** host.hostname: the BE's name, as bectl sets it. */
  hostname: string;
  /** Already checked `-o` parameters, in command-line order. */
  parameters: readonly JailParameter[];
}

/** be's defaults, then the -o overrides: a later value of the same parameter replaces the earlier one in place. */
export function jailParameters(spec: JailSpec): JailParameter[] {
  const list: JailParameter[] = [
    { name: 'name', value: spec.name },
    { name: 'path', value: spec.root },
    { name: 'host.hostname', value: spec.hostname },
    { name: 'mount.devfs', value: null },
    { name: 'persist', value: null },
    { name: 'allow.mount', value: null },
    { name: 'allow.mount.devfs', value: null },
    { name: 'enforce_statfs', value: '1' },
  ];
  for (const p of spec.parameters) {
    const at = list.findIndex((q) => key(q.name) === key(p.name));
    if (at >= 0) list[at] = p;
    else list.push(p);
  }
  return list;
}

function formatParameter(p: JailParameter): string {
  return p.value === null ? p.name : `${p.name}=${p.value}`;
}

/** The name the jail ends up with (an `-o name=` override wins). */
export function finalJailName(spec: JailSpec): string {
  return jailParameters(spec).find((p) => p.name === 'name')?.value ?? spec.name;
}

/** `jail -c name=... path=... host.hostname=... mount.devfs persist allow.mount allow.mount.devfs enforce_statfs=1 ...`. */
export function jailCreateArgv(spec: JailSpec): string[] {
  return ['jail', '-c', ...jailParameters(spec).map(formatParameter)];
}

/** `jexec NAME COMMAND...`: jexec attaches and execs, so its exit status is the command's. */
export function jexecArgv(name: string, command: readonly string[]): string[] {
  return ['jexec', name, ...command];
}

/** `jail -r NAME`: kills every process in the jail and removes it. */
export function jailRemoveArgv(name: string): string[] {
  return ['jail', '-r', name];
}

function isOn(p: JailParameter): boolean {
  if (p.name !== key(p.name)) return false; // the `no` form switches it off
  return p.value === null || !/^(false|0|no)$/i.test(p.value);
}

/**
 * The file systems jail(8) mounts for these parameters (mount.devfs on path/dev, mount.fdescfs on
 * path/dev/fd, mount.procfs on path/proc), deepest first: what be unmounts after `jail -r` when they
 * are still mounted. A jail made on the command line is removed by name, and jail(8) then has no
 * record of its mount.* pseudo-parameters (poudriere and others unmount path/dev themselves).
 */
export function jailMounts(spec: JailSpec): string[] {
  const on = new Set(
    jailParameters(spec)
      .filter(isOn)
      .map((p) => p.name),
  );
  const root = jailParameters(spec).find((p) => p.name === 'path')?.value ?? spec.root;
  const mounts: string[] = [];
  if (on.has('mount.fdescfs')) mounts.push(joinPath(root, 'dev/fd'));
  if (on.has('mount.devfs')) mounts.push(joinPath(root, 'dev'));
  if (on.has('mount.procfs')) mounts.push(joinPath(root, 'proc'));
  return mounts;
}

// --- kernel compatibility ---------------------------------------------------------------------------

/**
 * The kern.features a userland of major M needs on a kernel of major H > M. A syscall whose ABI
 * changed after release K keeps its old entry only under `options COMPAT_FREEBSDK` (freebsd11_stat,
 * freebsd12_shm_open, ...), which the kernel announces as kern.features.compat_freebsdK
 * (sys/kern/kern_mib.c). So M's binaries need every K from M to H-1. 8 is left out: no system call
 * was kept for 8.x binaries, GENERIC has never had COMPAT_FREEBSD8, and 8.x binaries run without it.
 * Before 4 there is nothing to ask for (COMPAT_FREEBSD4 is the oldest).
 */
export function compatFeaturesNeeded(userlandMajor: number, kernelMajor: number): string[] {
  const needed: string[] = [];
  for (let k = Math.max(userlandMajor, 4); k < kernelMajor; k++) if (k !== 8) needed.push(`compat_freebsd${k}`);
  return needed;
}

export interface KernelFacts {
  /** kern.osrelease, e.g. 14.1-RELEASE-p5. */
  release: Release | undefined;
  /** Every kern.features.* that is 1, without the prefix: compat_freebsd11, ... */
  features: Set<string>;
}

/** `sysctl kern.osrelease kern.features` output: `kern.osrelease: 14.1-RELEASE` and `kern.features.NAME: 1` lines. */
export function parseKernelFacts(text: string): KernelFacts {
  let release: Release | undefined;
  const features = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^([\w.]+):\s*(.*)$/.exec(line.trim());
    if (!match) continue;
    const name = match[1]!;
    const value = match[2]!;
    if (name === 'kern.osrelease') release = parseRelease(value);
    else if (name.startsWith('kern.features.') && value.trim() === '1') features.add(name.slice('kern.features.'.length));
  }
  return { release, features };
}

/**
 * One warning line when this userland will not run on this kernel, or undefined when it should (or
 * when the kernel's release is unknown). Said before running, instead of letting the binaries fail
 * with "Bad system call".
 */
export function compatWarning(userland: Release, kernel: KernelFacts): string | undefined {
  if (!kernel.release) return undefined;
  const host = kernel.release;
  if (userland.major > host.major) {
    return `${userland.text} userland is newer than the host kernel (${host.text}): its binaries may fail with "Bad system call"`;
  }
  const missing = compatFeaturesNeeded(userland.major, host.major).filter((f) => !kernel.features.has(f));
  if (missing.length === 0) return undefined;
  const options = missing.map((f) => f.replace('compat_freebsd', 'COMPAT_FREEBSD')).join(', ');
  return `${userland.text} userland on a ${host.text} kernel needs options ${options}, which this kernel lacks (no kern.features.${missing.join(', kern.features.')}): its binaries may fail with "Bad system call"`;
}

// --- the chroot runner's mounts -------------------------------------------------------------------

export interface MountStep {
  /** The mount point inside the root. */
  target: string;
  /** What mounts it, in order. */
  mount: string[][];
  /** What unmounts it (and everything below it). */
  umount: string[];
}

/**
 * devfs at root/dev and procfs at root/proc, mounted in this order and unmounted in the reverse one.
 * FreeBSD mounts its own devfs and procfs; Linux binds the host's /dev with its submounts (pts, shm)
 * and makes the copy a slave, so unmounting it never propagates back to the host's /dev, then mounts a
 * new proc.
 */
export function chrootMountPlan(root: string, platform: NodeJS.Platform): MountStep[] {
  const dev = joinPath(root, 'dev');
  const proc = joinPath(root, 'proc');
  if (platform === 'freebsd') {
    return [
      { target: dev, mount: [['mount', '-t', 'devfs', 'devfs', dev]], umount: ['umount', dev] },
      { target: proc, mount: [['mount', '-t', 'procfs', 'proc', proc]], umount: ['umount', proc] },
    ];
  }
  return [
    {
      target: dev,
      mount: [
        ['mount', '--rbind', '/dev', dev],
        ['mount', '--make-rslave', dev],
      ],
      umount: ['umount', '-R', dev],
    },
    { target: proc, mount: [['mount', '-t', 'proc', 'proc', proc]], umount: ['umount', proc] },
  ];
}

/** `chroot ROOT COMMAND...` (FreeBSD's chroot(8) and coreutils' take the command and its arguments after the root). */
export function chrootArgv(root: string, command: readonly string[]): string[] {
  return ['chroot', root, ...command];
}

// --- the bhyve runner's rc script -----------------------------------------------------------------

/** Where the bhyve runner's files live inside the BE, as the guest sees them. */
export const guestRun = {
  /** The rc script; it removes itself when it starts, so a guest that boots again does not rerun it. */
  script: '/etc/rc.d/be_run',
  /** The directory holding `log` (the command's output) and `status` (its exit status, written last). */
  dir: '/.be-run',
} as const;

export interface RcScriptOptions {
  command: readonly string[];
  /** Defaults: guestRun.script and guestRun.dir; tests run the script elsewhere. */
  script?: string;
  dir?: string;
  /** What powers the guest off, tried in order: `shutdown -p now` (rc.shutdown runs first), else `halt -p`. */
  poweroff?: readonly (readonly string[])[];
}

/**
 * The one-shot rc.d script that runs the command in the guest, as freebsd-ci's testvm does from
 * rc.local and rc.d/freebsdci: after LOGIN (every file system, the nested datasets from fstab
 * included, is mounted), output to DIR/log, exit status to DIR/status (written to a temporary name
 * and renamed, so the host never reads half a number), then power off; bhyve then exits 1. It needs
 * no rc.subr and no rc.conf knob: rc(8) runs every script in /etc/rc.d with `start`, `faststart` or
 * `quietstart`. `KEYWORD: FreeBSD` is for 5.x and 6.x, whose rc ran only scripts with that keyword
 * (rcorder -k FreeBSD); later rcorder ignores it.
 */
export function bhyveRcScript(options: RcScriptOptions): string {
  const script = options.script ?? guestRun.script;
  const dir = options.dir ?? guestRun.dir;
  const poweroff = options.poweroff ?? [
    ['/sbin/shutdown', '-p', 'now'],
    ['/sbin/halt', '-p'],
  ];
  const q = (path: string) => shellCommand([path]);
  return `#!/bin/sh
#
# PROVIDE: be_run
# REQUIRE: LOGIN
# KEYWORD: FreeBSD
#
# Placed by be for one run of: ${shellCommand(options.command).replace(/\n/g, ' ')}
# It runs once, writes the output to ${dir}/log and the exit status to ${dir}/status, and powers off.

case "$1" in
*start) ;;
*) exit 0 ;;
esac
rm -f ${q(script)}
PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin
export PATH
mkdir -p ${q(dir)}
( cd / && exec ${shellCommand(options.command)} ) > ${q(`${dir}/log`)} 2>&1 < /dev/null
echo $? > ${q(`${dir}/status.tmp`)}
mv ${q(`${dir}/status.tmp`)} ${q(`${dir}/status`)}
sync
${poweroff.map(shellCommand).join(' || ')}
`;
}

/** The status file's text as the guest wrote it (`echo $?`): the exit status, or undefined if it is not one. */
export function parseStatus(text: string): number | undefined {
  const trimmed = text.trim();
  return /^\d{1,3}$/.test(trimmed) && Number(trimmed) <= 255 ? Number(trimmed) : undefined;
}
