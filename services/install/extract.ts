/**
 * Unpacking distribution sets into a mounted boot environment with the system's tar, through the OS
 * door: bsdtar on FreeBSD, GNU tar elsewhere. A JavaScript tar library loses what a base system is
 * made of (setuid bits, hard links, device nodes, FIFOs, file flags); the system tar as root keeps them.
 *
 * - `-p` keeps modes (and, with bsdtar, ACLs and file flags); `--numeric-owner` keeps the archive's
 *   uid/gid instead of mapping names through this machine's /etc/passwd, whose wheel or operator may
 *   not exist or differ from FreeBSD's.
 * - Split sets are one gzip'd tar stream cut in pieces: they are fed to `tar -xpzf -` in order, as
 *   each set's install.sh does (`cat base.?? | tar --unlink -xpzf - -C ${DESTDIR:-/}`). `--unlink`
 *   only for bsdtar: GNU tar's --unlink-first also tries to remove the directories the archive names,
 *   and `./usr`, the mount point of the usr dataset, is busy (seen on zfs-fuse); GNU tar replaces
 *   existing files without it.
 * - Progress counts entries from tar's verbose listing (one line each, on stdout for GNU tar, stderr
 *   for bsdtar), against MANIFEST's file count when there is one.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BeError } from '../../src/errors.js';
import { start } from '../os.js';

export interface ExtractOptions {
  signal?: AbortSignal;
  /** Called with the number of entries extracted so far. */
  onEntries?: (count: number) => void;
}

/** Counts newline-terminated lines of a stream. */
function countLines(stream: Readable | null | undefined, onCount: (n: number) => void): void {
  let count = 0;
  stream?.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) count++;
    onCount(count);
  });
}

/** Runs tar with `args`; `feed` writes its standard input. Returns the number of entries it listed. */
async function runTar(args: string[], options: ExtractOptions, feed?: (stdin: NodeJS.WritableStream) => Promise<void>): Promise<number> {
  const child = start('tar', args, { ...(options.signal ? { signal: options.signal } : {}), ...(feed ? { stdin: 'pipe' as const } : {}) });
  let entries = 0;
  const seen = (n: number) => {
    entries = Math.max(entries, n);
    options.onEntries?.(entries);
  };
  // GNU tar lists to stdout (one name a line).
  countLines(child.stdout, seen);
  // bsdtar lists to stderr as "x NAME" lines: those count as entries (and are not kept); the rest is
  // what tar had to say, kept (the first 64 KiB) for the error message.
  const errors: string[] = [];
  let kept = 0;
  let listed = 0;
  let partial = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('x ')) {
        seen(++listed);
      } else if (kept < 65_536) {
        kept += line.length;
        errors.push(`${line}\n`);
      }
    }
  });
  // A tar that fails early closes its input: its own message says why, not the EPIPE of the feeder.
  let feedError: Error | undefined;
  const feeding = feed && child.stdin ? feed(child.stdin).catch((err: Error) => (feedError = err)) : undefined;
  const [result] = await Promise.all([child, feeding]);
  if (result.exitCode === 0 && feedError) throw new BeError('E_EXEC', `tar ${args.join(' ')}: reading the pieces: ${feedError.message}`);
  // Stopped because the caller aborted (SIGINT at the CLI): its reason, not tar's "exit status SIGTERM".
  if (result.exitCode !== 0 && options.signal?.aborted) throw options.signal.reason;
  if (result.exitCode !== 0) {
    const why = [...errors, partial].find((l) => l.trim()) ?? `exit status ${result.exitCode ?? result.signal}`;
    throw new BeError('E_EXEC', `tar ${args.join(' ')}: ${why.trim()}`);
  }
  return entries;
}

/** install.sh's --unlink where the tar is bsdtar (FreeBSD), see above. */
export function unlinkFlag(platform: NodeJS.Platform = process.platform): string[] {
  return platform === 'freebsd' ? ['--unlink'] : [];
}

/** A .txz set (9.0+) into `root`. Returns the number of entries. */
export async function extractArchive(file: string, root: string, options: ExtractOptions = {}): Promise<number> {
  return runTar(['-xvpf', file, '--numeric-owner', '-C', root], options);
}

/**
 * A split set (5.x-8.x): its pieces, in order, as one gzip'd tar stream into `root/target`; then the
 * rename the set needs (kernels: boot/GENERIC → boot/kernel, replacing an old one).
 */
export async function extractSplit(
  pieces: readonly string[],
  root: string,
  set: { target: string; rename?: { from: string; to: string } | undefined },
  options: ExtractOptions = {},
): Promise<number> {
  const dir = join(root, set.target);
  await mkdir(dir, { recursive: true });
  const entries = await runTar([...unlinkFlag(), '-xvpzf', '-', '--numeric-owner', '-C', dir], options, async (stdin) => {
    try {
      for (const piece of pieces) await pipeline(createReadStream(piece), stdin, { end: false });
    } finally {
      stdin.end();
    }
  });
  if (set.rename) {
    const from = join(root, set.rename.from);
    const to = join(root, set.rename.to);
    if (!(await stat(from).catch(() => undefined))) throw new BeError('E_EXEC', `${set.rename.from} is not in the set: cannot make it ${set.rename.to}`);
    await rm(to, { recursive: true, force: true });
    await rename(from, to);
  }
  return entries;
}
