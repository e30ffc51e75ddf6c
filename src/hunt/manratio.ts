/**
 * The manratio probe's figure: of the executables a release installs in bin, sbin, usr/bin and usr/sbin,
 * how many have a manual page in section 1 or 8. Pure: the probe (services/hunt/probes.ts) lists the BE's
 * directories and hands the names here, so the rules below are the whole definition.
 *
 * - An executable is a directory entry of bin, sbin, usr/bin or usr/sbin (not below them) that is a regular
 *   file with any execute bit, or a symbolic link. A link is counted by its own name without being
 *   followed: FreeBSD puts links there to be run by that name (`usr/bin/tar` -> bsdtar, `sbin/nologin`
 *   -> /usr/sbin/nologin), and an absolute target would name the host's file, not the BE's. Hard links
 *   are regular files, so each name counts (`[` and `test`). Directories and files without an execute
 *   bit are not executables.
 * - Executables are counted by name, not by path: `man` looks pages up by name, so a name in both /bin and
 *   /usr/bin has one page or none, and the question the figure answers ("is the manual page ratio
 *   improving") should not move when a program moves between /bin and /usr/bin or gains a compatibility
 *   link (10.1 has `bin/pgrep` and the link `usr/bin/pgrep`, `usr/sbin/nologin` and the link `sbin/nologin`).
 * - An executable has a page when `man NAME` would find one in usr/share/man/man1 or man8, or in their
 *   machine subdirectories (man8/amd64/apm.8.gz). FreeBSD's man.sh (usr.bin/man/man.sh, find_file)
 *   globs `man$sect/[$MACHINE/]NAME.$sect*`, then `NAME.0*` (preformatted pages), so any file whose name
 *   starts with `NAME.1` in man1 (or `NAME.8` in man8) counts: compressed or not (`ls.1.gz`, `ls.1`,
 *   `ls.1.bz2`), with a subsection (`ls.1x`), and whatever it is (a hard or symbolic link to another
 *   page is a page for its own name, as bsd.man.mk's MLINKS make them).
 */

/** Where a release keeps its executables, relative to the BE's root. */
export const executableDirectories = ['bin', 'sbin', 'usr/bin', 'usr/sbin'] as const;

/** The manual sections of commands (1: user commands, 8: system administration). */
export const manualSections = ['1', '8'] as const;
export type ManualSection = (typeof manualSections)[number];

/** In a BE, share/man is usr/share/man. */
export function manualDirectory(section: ManualSection): string {
  return `usr/share/man/man${section}`;
}

export type EntryKind = 'file' | 'symlink' | 'directory' | 'other';

/** Whether an entry of one of the executableDirectories is an executable (see the rules above). */
export function isExecutable(kind: EntryKind, mode: number): boolean {
  if (kind === 'symlink') return true;
  return kind === 'file' && (mode & 0o111) !== 0;
}

/**
 * The names `man` finds with a page file of a section: every prefix that is followed by `.SECTION` or
 * `.0` (man.sh's globs `NAME.$sect*` and `NAME.0*`). `ld-elf.so.1.1.gz` in man1 is found as
 * `ld-elf.so.1` and as `ld-elf.so`; `rpc.statd.8.gz` in man8 as `rpc.statd`.
 */
export function namesFoundBy(section: ManualSection, fileName: string): string[] {
  const names: string[] = [];
  for (let at = fileName.indexOf('.', 1); at > 0; at = fileName.indexOf('.', at + 1)) {
    if (fileName.startsWith(`.${section}`, at) || fileName.startsWith('.0', at)) names.push(fileName.slice(0, at));
  }
  return names;
}

export interface ManRatioInput {
  /** The executables found, their names per directory (`bin`, `usr/bin`, ...). */
  executables: Readonly<Record<string, readonly string[]>>;
  /** The page file names found per section, in man<S>/ and its machine subdirectories together. */
  pages: Readonly<Partial<Record<ManualSection, readonly string[]>>>;
}

export interface ManRatio {
  /** Distinct executable names. */
  executables: number;
  /** Those with a page. */
  withPage: number;
  /** withPage / executables, 0..1; 0 when there are none. */
  ratio: number;
  /** The names without a page, sorted. */
  missing: string[];
}

export function manRatio(input: ManRatioInput): ManRatio {
  const executables = new Set(Object.values(input.executables).flat());
  const documented = new Set<string>();
  for (const section of manualSections) {
    for (const file of input.pages[section] ?? []) for (const name of namesFoundBy(section, file)) documented.add(name);
  }
  const missing = [...executables].filter((name) => !documented.has(name)).sort();
  const withPage = executables.size - missing.length;
  return { executables: executables.size, withPage, ratio: executables.size === 0 ? 0 : withPage / executables.size, missing };
}

/** "1234 of 1500 executables have a page (82.3 %)". */
export function describeManRatio(figure: ManRatio): string {
  return `${figure.withPage} of ${figure.executables} executables have a page (${(figure.ratio * 100).toFixed(1)} %)`;
}
