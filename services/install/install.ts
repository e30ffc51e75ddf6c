/**
 * `be install`: a FreeBSD release into a boot environment. Find the release on the mirror (then the
 * archive), verify every set before anything is extracted, then extract with the system tar into the
 * BE mounted with its nested datasets, so usr/ lands in the usr dataset.
 *
 * Safe on failure: on zfs the BE is snapshotted (recursively) first and rolled back when anything
 * fails (download, checksum, tar, a full disk, SIGINT); on the dir backend a BE must be empty (unless
 * --force) and is emptied again on failure. The installed release is recorded in the state file only
 * once every set is in, so a BE never looks installed when it is not.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BootEnvironment } from '../../src/be/inventory.js';
import type { Config } from '../../src/config/schema.js';
import { BeError } from '../../src/errors.js';
import { type DigestName, parseChecksums, parseInf, parseManifest, pieceNames } from '../../src/install/manifest.js';
import { type Architecture, chooseSets, distDirectories, nearest, newestFirst, type Release, ReleaseError, splitSets } from '../../src/install/release.js';
import { BeOps } from '../be/ops.js';
import { updateState } from '../be/state.js';
import { extractArchive, extractSplit } from './extract.js';
import { fetchVerified, listDirectory, MirrorNotFoundError } from './fetch.js';

export interface InstallProgress {
  /** Bytes of one file as it downloads (or its size once, from the cache). */
  download(set: string, file: string, received: number, total: number | undefined, fromCache: boolean): void;
  /** Entries extracted of a set so far; total from MANIFEST when known. */
  extract(set: string, entries: number, total: number | undefined): void;
  /** A step worth a line: which directory, a snapshot, a rollback. */
  note(message: string): void;
}

export interface InstallRequest {
  release: Release;
  arch: Architecture;
  /** The mirror root (-p and -o), and the archive, as install.mirror / install.archive. */
  mirror: string;
  archive: string | null;
  sets?: readonly string[] | undefined;
  force?: boolean;
  signal?: AbortSignal;
  progress?: InstallProgress;
}

export interface InstalledSet {
  set: string;
  files: string[];
  bytes: number;
  /** The digest each file was verified against, by file. */
  digests: Record<string, string>;
  fromCache: boolean;
  entries: number;
}

export interface InstallSummary {
  be: string;
  root: string;
  release: string;
  arch: string;
  directory: string;
  sets: InstalledSet[];
  seconds: number;
}

const silent: InstallProgress = { download: () => {}, extract: () => {}, note: () => {} };

/** Whether a fetch failed because the file is not there (rather than the mirror being unreachable). */
function notFound(err: unknown): boolean {
  return err instanceof MirrorNotFoundError;
}

/** Only directories (mount points of nested datasets, an empty etc/) count as empty. */
async function hasFiles(dir: string): Promise<boolean> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) return true;
    if (await hasFiles(join(dir, entry.name))) return true;
  }
  return false;
}

/** The directories of a tree of directories (an empty BE: its nested datasets' mount points). */
async function directoriesOf(dir: string, out = new Set<string>()): Promise<Set<string>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    out.add(join(dir, entry.name));
    await directoriesOf(join(dir, entry.name), out);
  }
  return out;
}

/** Makes an emptied tree what it was: every file gone, and every directory that was not there before. */
async function restoreTree(dir: string, keep: ReadonlySet<string>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && keep.has(path)) await restoreTree(path, keep);
    else await rm(path, { recursive: true, force: true });
  }
}

/**
 * The releases a mirror root offers for an architecture, newest first: both the 9.0+ level
 * (`releases/<T>/<TA>/`) and the split layout's (`releases/<T>/`, which also holds 9.0+ aliases).
 */
export async function releasesOffered(mirror: string, arch: Architecture, branch: Release['branch'], signal?: AbortSignal): Promise<string[]> {
  const top = `${mirror.replace(/\/+$/, '')}/${branch === 'snapshot' ? 'snapshots' : 'releases'}/${arch.target}`;
  const names = new Set<string>();
  let reached = false;
  for (const dir of [`${top}/${arch.targetArch}/`, `${top}/`]) {
    try {
      for (const entry of await listDirectory(dir, signal ? { signal } : {})) names.add(entry.replace(/\/$/, ''));
      reached = true;
    } catch (err) {
      if (!notFound(err)) throw err;
    }
  }
  if (!reached) return [];
  return newestFirst([...names]);
}

export function cacheDir(config: Config, release: Release, arch: Architecture): string {
  return join(config.install.cache ?? join(config.server.stateDir, 'dist'), arch.target, arch.targetArch, release.name);
}

interface Plan {
  directory: string;
  sets: { set: string; fetch: (cache: string) => Promise<Omit<InstalledSet, 'entries'>>; extract: (root: string, files: string[]) => Promise<number> }[];
}

/**
 * An index (MANIFEST, a .inf, CHECKSUM.*): it has no digest of its own, so a cached copy proves nothing
 * and a snapshot's changes daily; it is fetched anew for every install.
 */
async function fetchIndex(directory: string, name: string, dest: string, signal: AbortSignal | undefined): Promise<void> {
  await rm(dest, { force: true });
  await fetchVerified(directory, name, dest, signal ? { signal } : {});
}

/** The first candidate directory that has the release's index (MANIFEST, or base/base.inf), fetched into the cache. */
async function locate(request: InstallRequest, cache: string): Promise<{ directory: string; index: string }> {
  const candidates = distDirectories(request.release, request.arch, { mirror: request.mirror, archive: request.archive });
  const index = request.release.layout === 'txz' ? 'MANIFEST' : 'base/base.inf';
  for (const directory of candidates) {
    try {
      await fetchIndex(directory, index, join(cache, index), request.signal);
      return { directory, index };
    } catch (err) {
      // A mirror that cannot be reached is a bad -p (or install.mirror): a refusal, naming the URL.
      if (err instanceof BeError && err.code === 'E_NET' && !notFound(err)) throw new BeError('E_USAGE', err.message, undefined, { cause: err });
      if (!notFound(err)) throw err;
    }
  }
  // Not there: say what the mirror has instead.
  const near = nearest(request.release, await releasesOffered(request.mirror, request.arch, request.release.branch).catch(() => []));
  throw new ReleaseError(
    `${request.release.name} for ${request.arch.target} is not on ${request.mirror}${request.archive ? ` nor on ${request.archive}` : ''}${near.length ? ` (nearest: ${near.join(', ')})` : ''}`,
  );
}

async function planTxz(request: InstallRequest, directory: string, cache: string): Promise<Plan> {
  // locate() fetched it.
  const manifestFile = join(cache, 'MANIFEST');
  const entries = parseManifest(await readFile(manifestFile, 'utf8'), `${directory}MANIFEST`);
  const chosen = chooseSets(
    request.release,
    request.sets,
    entries.map((e) => e.set),
  );
  const progress = request.progress ?? silent;
  return {
    directory,
    sets: chosen.map((set) => {
      const entry = entries.find((e) => e.set === set)!;
      return {
        set,
        fetch: async (dir) => {
          const result = await fetchVerified(directory, entry.file, join(dir, entry.file), {
            digest: { algorithm: 'sha256', hex: entry.sha256 },
            ...(request.signal ? { signal: request.signal } : {}),
            onProgress: (p) => progress.download(set, entry.file, p.received, p.total, p.fromCache),
          });
          return { set, files: [result.file], bytes: result.bytes, digests: { [entry.file]: result.hex }, fromCache: result.fromCache };
        },
        extract: (root, files) =>
          extractArchive(files[0]!, root, {
            ...(request.signal ? { signal: request.signal } : {}),
            onEntries: (n) => progress.extract(set, n, entry.files),
          }),
      };
    }),
  };
}

async function planSplit(request: InstallRequest, directory: string, cache: string): Promise<Plan> {
  const progress = request.progress ?? silent;
  const opts = request.signal ? { signal: request.signal } : {};
  const known = splitSets(request.release);
  // Which sets this release has: those whose .inf is there.
  const present: typeof known = [];
  for (const s of known) {
    try {
      // base/base.inf came with locate().
      if (s.set !== 'base') await fetchIndex(`${directory}${s.dir}/`, `${s.prefix}.inf`, join(cache, s.dir, `${s.prefix}.inf`), request.signal);
      present.push(s);
    } catch (err) {
      if (!notFound(err)) throw err;
    }
  }
  const chosen = chooseSets(
    request.release,
    request.sets,
    present.map((s) => s.set),
  );
  return {
    directory,
    sets: chosen.map((name) => {
      const set = present.find((s) => s.set === name)!;
      const setDir = `${directory}${set.dir}/`;
      return {
        set: name,
        fetch: async (dir) => {
          const local = join(dir, set.dir);
          const inf = parseInf(await readFile(join(local, `${set.prefix}.inf`), 'utf8'), `${setDir}${set.prefix}.inf`);
          // The per-piece digests: CHECKSUM.SHA256 where the release has it, else CHECKSUM.MD5 (5.x).
          let sums: { algorithm: DigestName; sums: Map<string, string> } | undefined;
          for (const file of ['CHECKSUM.SHA256', 'CHECKSUM.MD5']) {
            try {
              await fetchIndex(setDir, file, join(local, file), request.signal);
              sums = parseChecksums(await readFile(join(local, file), 'utf8'), `${setDir}${file}`);
              break;
            } catch (err) {
              if (!notFound(err)) throw err;
            }
          }
          if (!sums) throw new BeError('E_EXEC', `${setDir}: neither CHECKSUM.SHA256 nor CHECKSUM.MD5: the pieces cannot be verified`);
          const pieces = pieceNames(inf.pieces).map((suffix) => `${set.prefix}.${suffix}`);
          const listed = [...sums.sums.keys()].filter((f) => new RegExp(`^${set.prefix}\\.[a-z]{2}$`).test(f));
          if (listed.length !== pieces.length) {
            throw new BeError(
              'E_EXEC',
              `${setDir}: ${set.prefix}.inf says ${pieces.length} pieces, ${sums.algorithm.toUpperCase()} checksums list ${listed.length}`,
            );
          }
          const files: string[] = [];
          const digests: Record<string, string> = {};
          let bytes = 0;
          let fromCache = true;
          for (const piece of pieces) {
            const hex = sums.sums.get(piece);
            if (!hex) throw new BeError('E_EXEC', `${setDir}: no ${sums.algorithm} checksum for ${piece}`);
            const result = await fetchVerified(setDir, piece, join(local, piece), {
              ...opts,
              digest: { algorithm: sums.algorithm, hex },
              onProgress: (p) => progress.download(name, piece, p.received, p.total, p.fromCache),
            });
            const size = inf.cksums.get(piece.slice(-2))?.size;
            if (size !== undefined && size !== result.bytes)
              throw new BeError('E_EXEC', `${setDir}${piece}: ${result.bytes} bytes, ${set.prefix}.inf says ${size}`);
            files.push(result.file);
            digests[piece] = result.hex;
            bytes += result.bytes;
            fromCache &&= result.fromCache;
          }
          return { set: name, files, bytes, digests, fromCache };
        },
        extract: (root, files) => extractSplit(files, root, set, { ...opts, onEntries: (n) => progress.extract(name, n, undefined) }),
      };
    }),
  };
}

export async function installRelease(config: Config, name: string, request: InstallRequest): Promise<InstallSummary> {
  const started = Date.now();
  const progress = request.progress ?? silent;
  const ops = await BeOps.open(config);
  const found = await ops.find(name);
  const cache = cacheDir(config, request.release, request.arch);
  await mkdir(cache, { recursive: true });

  // Refusals first: nothing is fetched for a BE that cannot take the release.
  const be: BootEnvironment = await ops.ensureMounted(found.name);
  const root = be.datasets[0]!.path!;
  if (!request.force && (await hasFiles(root))) {
    throw new BeError('E_USAGE', `${name} is not empty (${root}): be install needs an empty boot environment, or --force`);
  }
  // Without snapshots (dir backend), what an empty BE was is its directories.
  const before = ops.backend.snapshots || request.force ? undefined : await directoriesOf(root);

  const { directory } = await locate(request, cache);
  const plan = request.release.layout === 'txz' ? await planTxz(request, directory, cache) : await planSplit(request, directory, cache);
  // After the refusals (an unknown set), so that a refusal stays one line.
  progress.note(`${request.release.name} ${request.arch.target}: ${plan.sets.map((s) => s.set).join(', ')} from ${directory}`);

  // Every set downloaded and verified before anything is extracted.
  const fetched: Omit<InstalledSet, 'entries'>[] = [];
  for (const step of plan.sets) fetched.push(await step.fetch(cache));

  const snapshots = ops.backend.snapshots;
  const tag = `be-install-${started}`;
  if (snapshots) {
    await snapshots.take(be, tag);
    progress.note(`snapshot ${be.source}@${tag}`);
  }
  const sets: InstalledSet[] = [];
  try {
    for (const [i, step] of plan.sets.entries()) {
      const entries = await step.extract(root, fetched[i]!.files);
      sets.push({ ...fetched[i]!, entries });
    }
    // A SIGINT that came while the last set finished still undoes the install: the user asked for nothing to be left.
    request.signal?.throwIfAborted();
    await updateState(config.server.stateDir, (state) => {
      state.installed[name] = { release: request.release.name, arch: request.arch.target, sets: sets.map((s) => s.set), at: new Date().toISOString() };
    });
  } catch (err) {
    if (snapshots) {
      progress.note(`rolling ${be.source} back to @${tag}`);
      await snapshots.rollback(be, tag).catch((rollbackErr: Error) => {
        const status = err instanceof BeError ? err.exitStatus : undefined;
        throw new BeError('E_EXEC', `${(err as Error).message}; and the rollback to ${be.source}@${tag} failed: ${rollbackErr.message}`, status);
      });
    } else if (before) {
      progress.note(`emptying ${root} again`);
      await restoreTree(root, before);
    }
    throw err;
  }
  if (snapshots) await snapshots.drop(be, tag);
  return { be: name, root, release: request.release.name, arch: request.arch.target, directory, sets, seconds: (Date.now() - started) / 1000 };
}
