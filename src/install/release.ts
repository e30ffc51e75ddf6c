/**
 * Which release, for which architecture, laid out how, and where a mirror keeps it. Sources for every
 * layout fact: docs/freebsd-dist-layouts.md (release/Makefile.mirrors, release/scripts/*, sysinstall,
 * bsdinstall's mirrorselect, and the tools that fetch from the archive).
 *
 * - 9.0 and later ("txz"): `releases/<TARGET>/<TARGET_ARCH>/<REV>-RELEASE/` with MANIFEST and `*.txz`;
 *   builds of -CURRENT and -STABLE under `snapshots/` the same way.
 * - 5.0 to 8.4 ("split"): `<arch>/<REV>-RELEASE/<set>/<set>.aa ...` with `<set>.inf` and CHECKSUM.MD5
 *   or CHECKSUM.SHA256, one gzip'd tar cut in pieces; from 6.0 the kernel is its own set, kernels/
 *   `generic.??`, whose top directory GENERIC becomes /boot/kernel.
 * - The archive of old releases (ftp-archive's old-releases/) has no `releases/` level, and keeps
 *   9.0+ releases under either `<T>/<TA>/<REV>/` or `<T>/<REV>/`: both are tried.
 */

export class ReleaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReleaseError';
  }
}

export type Branch = 'release' | 'snapshot';
export type Layout = 'txz' | 'split';

export interface Release {
  /** As the mirror names its directory: 14.1-RELEASE, 15.0-CURRENT, 8.4-RELEASE. */
  name: string;
  major: number;
  minor: number;
  branch: Branch;
  layout: Layout;
}

/** The first release with /boot/kernel, and so the first `be install` installs. */
export const oldestRelease = { major: 5, minor: 0 };

/**
 * `-r 11.1` with `-b release` is 11.1-RELEASE; a full name (11.1-RELEASE, 15.0-CURRENT, 14.2-STABLE,
 * 14.2-BETA1, 13.4-RC3) is taken as given. `-b snapshot` needs the branch suffix (-CURRENT, -STABLE, ...).
 */
export function parseRelease(text: string, branch: Branch = 'release'): Release {
  const match = /^(\d{1,2})\.(\d{1,2})(?:-([A-Z][A-Z0-9]*))?$/.exec(text.trim());
  if (!match) throw new ReleaseError(`-r ${text}: not a release (e.g. 14.1, 8.4 or 15.0-CURRENT)`);
  const major = Number(match[1]);
  const minor = Number(match[2]);
  let suffix = match[3];
  if (suffix === undefined) {
    if (branch === 'snapshot')
      throw new ReleaseError(`-r ${text}: a snapshot is named with its branch, e.g. ${major}.${minor}-CURRENT or ${major}.${minor}-STABLE`);
    suffix = 'RELEASE';
  }
  if (major < oldestRelease.major) {
    throw new ReleaseError(`-r ${text}: FreeBSD ${major}.${minor} is older than 5.0, the first release with /boot/kernel; be install starts there`);
  }
  const snapshotBranch = /^(CURRENT|STABLE|PRERELEASE|ALPHA\d*)$/.test(suffix);
  if (branch === 'release' && snapshotBranch) throw new ReleaseError(`-r ${text}: ${suffix} builds are snapshots: add -b snapshot`);
  return { name: `${major}.${minor}-${suffix}`, major, minor, branch: snapshotBranch ? 'snapshot' : branch, layout: major >= 9 ? 'txz' : 'split' };
}

export interface Architecture {
  /** uname -m, the first directory level: amd64, i386, arm64. */
  target: string;
  /** uname -p, the second level of 9.0+ trees: amd64, i386, aarch64. */
  targetArch: string;
}

const architectures: Record<string, Architecture> = {
  amd64: { target: 'amd64', targetArch: 'amd64' },
  i386: { target: 'i386', targetArch: 'i386' },
  arm64: { target: 'arm64', targetArch: 'aarch64' },
  aarch64: { target: 'arm64', targetArch: 'aarch64' },
};

/** `-a amd64`, `-a i386` (its own tree, not amd64's lib32), `-a arm64` or `-a aarch64`. */
export function parseArchitecture(text: string, release?: Release): Architecture {
  const arch = architectures[text];
  if (!arch) throw new ReleaseError(`-a ${text}: not an architecture be install knows (known: ${Object.keys(architectures).join(', ')})`);
  if (release && arch.target === 'arm64' && release.major < 11) throw new ReleaseError(`-a ${text}: FreeBSD has arm64 releases from 11.0, not ${release.name}`);
  return arch;
}

function join(base: string, ...parts: string[]): string {
  return [base.replace(/\/+$/, ''), ...parts].join('/');
}

/**
 * The directories that may hold the release, in the order to try: the mirror (`-p`/`-o`, or
 * install.mirror), then the archive (install.archive). Each ends with `/`.
 */
export function distDirectories(release: Release, arch: Architecture, roots: { mirror: string; archive: string | null }): string[] {
  const out: string[] = [];
  const top = release.branch === 'snapshot' ? 'snapshots' : 'releases';
  if (release.layout === 'txz') {
    out.push(join(roots.mirror, top, arch.target, arch.targetArch, release.name));
    if (roots.archive && release.branch === 'release') {
      out.push(join(roots.archive, arch.target, arch.targetArch, release.name), join(roots.archive, arch.target, release.name));
    }
  } else {
    out.push(join(roots.mirror, 'releases', arch.target, release.name));
    if (roots.archive) out.push(join(roots.archive, arch.target, release.name));
  }
  return out.map((d) => `${d}/`);
}

/** How one set of a split-layout release is stored and where it goes. */
export interface SplitSet {
  /** The set as `--sets` names it: base, kernel, lib32. */
  set: string;
  /** Its directory under the release: base/, kernels/, lib32/. */
  dir: string;
  /** The pieces' prefix: base (base.aa ...), generic (generic.aa ...). */
  prefix: string;
  /** Where it is extracted, relative to the boot environment's root. */
  target: string;
  /** A directory the archive creates under the target that is renamed afterwards (kernels: GENERIC → kernel). */
  rename?: { from: string; to: string };
}

/**
 * The split sets be install knows. 5.x keeps the kernel in base (sysinstall of 5.2); from 6.0 it is
 * kernels/generic, unpacked under /boot and moved from /boot/GENERIC to /boot/kernel as sysinstall
 * does; lib32 (amd64, 6.2 and later) goes to /.
 */
export function splitSets(release: Release): SplitSet[] {
  const sets: SplitSet[] = [{ set: 'base', dir: 'base', prefix: 'base', target: '' }];
  if (release.major >= 6) sets.push({ set: 'kernel', dir: 'kernels', prefix: 'generic', target: 'boot', rename: { from: 'boot/GENERIC', to: 'boot/kernel' } });
  sets.push({ set: 'lib32', dir: 'lib32', prefix: 'lib32', target: '' });
  return sets;
}

/** The sets installed when --sets is not given: base and the kernel (on 5.x the kernel is part of base). */
export function defaultSets(release: Release): string[] {
  return release.layout === 'split' && release.major < 6 ? ['base'] : ['base', 'kernel'];
}

/**
 * `--sets base,kernel,lib32`: each name must be one the release has (`available`: MANIFEST's sets, or
 * the split sets present). A 5.x `kernel` is accepted and means base, which carries it.
 */
export function chooseSets(release: Release, wanted: readonly string[] | undefined, available: readonly string[]): string[] {
  const names = [...new Set((wanted ?? defaultSets(release)).map((s) => s.trim()).filter(Boolean))];
  const resolved = names.map((s) => (release.layout === 'split' && release.major < 6 && s === 'kernel' ? 'base' : s));
  const unknown = resolved.find((s) => !available.includes(s));
  if (unknown !== undefined) throw new ReleaseError(`--sets ${unknown}: ${release.name} has no such set (it has: ${available.join(', ')})`);
  return [...new Set(resolved)];
}

/** Sorts release directory names newest first (--list): 14.1-RELEASE before 14.0-RELEASE before 9.3-RELEASE. */
export function newestFirst(names: readonly string[]): string[] {
  const key = (n: string) => {
    const m = /^(\d+)\.(\d+)-/.exec(n);
    return m ? Number(m[1]) * 1000 + Number(m[2]) : -1;
  };
  return names.filter((n) => key(n) >= 0).sort((a, b) => key(b) - key(a) || a.localeCompare(b));
}

/** The release names nearest to one the mirror lacks, for the refusal. */
export function nearest(wanted: Release, names: readonly string[], count = 3): string[] {
  const value = (n: string) => {
    const m = /^(\d+)\.(\d+)-/.exec(n);
    return m ? Number(m[1]) * 100 + Number(m[2]) : Number.NaN;
  };
  const target = wanted.major * 100 + wanted.minor;
  return names
    .filter((n) => !Number.isNaN(value(n)))
    .sort((a, b) => Math.abs(value(a) - target) - Math.abs(value(b) - target) || value(b) - value(a))
    .slice(0, count);
}
