/**
 * Keeps nfs.exportsFile in step with the shared boot environments: build the text (src/nfs/exports.ts),
 * replace the file atomically only when the text changed, then make the NFS server re-read it.
 * Only that one file is ever written.
 */
import { readFile, unlink } from 'node:fs/promises';
import type { Config } from '../../src/config/schema.js';
import { BeError } from '../../src/errors.js';
import { buildExports, exportEntriesFor, type ExportEntry, type ExportsFormat } from '../../src/nfs/exports.js';
import { processExists, run } from '../os.js';
import type { BeBackend } from '../be/backend.js';
import { readIfExists, writeAtomic } from '../atomic.js';
import { loadState } from '../be/state.js';

export interface ExportsOutcome {
  text: string;
  written: boolean;
  reloaded: boolean;
  /**
   * Set when the file was written but no NFS server runs to re-read it: one line saying the exports
   * take effect when it starts, and how to start it (as `zfs set sharenfs` behaves).
   */
  notRunning?: string;
  /** Shared BEs or datasets that could not be exported (not mounted, gone). */
  problems: string[];
  /** The paths the text exports. */
  entries: ExportEntry[];
}

/** The exports text for the current inventory and state. */
export async function renderExports(
  config: Config,
  backend: BeBackend,
  options: { format?: ExportsFormat; force?: boolean; signal?: AbortSignal; shared?: readonly string[] } = {},
): Promise<{ text: string; problems: string[]; entries: ExportEntry[] }> {
  const shared = options.shared ?? (await loadState(config.server.stateDir)).shared;
  const envs = await backend.list(options.signal);
  const { entries, problems } = exportEntriesFor(envs, shared);
  const text = buildExports(entries, {
    format: options.format ?? config.nfs.format,
    network: config.nfs.network,
    maproot: config.nfs.maproot,
    allowWorldRoot: config.nfs.allowWorldRoot || options.force === true,
  });
  return { text, problems, entries };
}

/** What reloadNfs found: the server re-read the file, or none runs (the reason, for the warning). */
export type ReloadResult = { reloaded: true } | { reloaded: false; why: string };

/** What to tell someone whose exports wait for an NFS server that is not running yet. */
export function notRunningNotice(file: string, why: string): string {
  return `${why}: ${file} is written and takes effect when the NFS server starts (service mountd onestart, or nfs_server_enable="YES" in /etc/rc.conf)`;
}

/**
 * Make the NFS server re-read its exports: nfs.reload when set, else SIGHUP to the pid in nfs.pidFile
 * (mountd's, FREEBSD.md) sent with kill(1) through the OS door. A missing pid file, or one naming a
 * process that is gone, means no server runs: not a failure, since mountd reads the file when it starts.
 */
export async function reloadNfs(nfs: Config['nfs'], signal?: AbortSignal): Promise<ReloadResult> {
  const opts = { timeoutMs: 30_000, ...(signal ? { signal } : {}) };
  if (nfs.reload) {
    await run(nfs.reload[0]!, nfs.reload.slice(1), opts);
    return { reloaded: true };
  }
  let text: string;
  try {
    text = await readFile(nfs.pidFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { reloaded: false, why: `the NFS server is not running (no ${nfs.pidFile})` };
    throw new BeError('E_EXEC', `cannot reload the NFS server: ${nfs.pidFile}: ${(err as Error).message}`);
  }
  const pid = text.trim().split(/\s+/)[0] ?? '';
  if (!/^[1-9]\d{0,9}$/.test(pid)) throw new BeError('E_EXEC', `cannot reload the NFS server: ${nfs.pidFile} holds no pid`);
  if (!processExists(Number(pid))) return { reloaded: false, why: `the NFS server is not running (${nfs.pidFile} names pid ${pid}, which is gone)` };
  await run('kill', ['-HUP', pid], opts);
  return { reloaded: true };
}

/** Write the file if its text changed, and reload the server only then. */
export async function applyExports(
  config: Config,
  backend: BeBackend,
  options: { force?: boolean; signal?: AbortSignal; shared?: readonly string[] } = {},
): Promise<ExportsOutcome> {
  const { text, problems, entries } = await renderExports(config, backend, options);
  const file = config.nfs.exportsFile;
  const before = await readIfExists(file);
  if (before === text) return { text, written: false, reloaded: false, problems, entries };
  await writeAtomic(file, text);
  let reload: ReloadResult;
  try {
    reload = await reloadNfs(config.nfs, options.signal);
  } catch (err) {
    // Put the old file back: otherwise the next run would find the text unchanged and never reload.
    if (before === undefined) await unlink(file).catch(() => {});
    else await writeAtomic(file, before);
    throw new BeError('E_EXEC', `${(err as Error).message} (${file} was left as it was)`, undefined, { cause: err });
  }
  if (!reload.reloaded) return { text, written: true, reloaded: false, problems, entries, notRunning: notRunningNotice(file, reload.why) };
  return { text, written: true, reloaded: true, problems, entries };
}
