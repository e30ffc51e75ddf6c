/**
 * The exports file be owns (`nfs.exportsFile`), in three formats, one entry per dataset path: mountd
 * serves one file system per line and NFSv3 does not cross mount points, so every nested dataset of a
 * boot environment needs its own (FREEBSD.md, "mountd and exports(5)").
 *   freebsd: `PATH -maproot=root -network 192.168.2.0 -mask 255.255.255.0`
 *   linux:   `PATH 192.168.2.0/24(rw,no_root_squash,no_subtree_check,sync)`
 *   ganesha: one EXPORT block per path for nfs-ganesha's VFS FSAL.
 * The text has no timestamp, so an unchanged inventory gives byte-identical output and no rewrite.
 */
import { BeError } from '../errors.js';
import { parseCidr, prefixToMask } from '../net.js';

export type ExportsFormat = 'freebsd' | 'linux' | 'ganesha';

export interface ExportEntry {
  path: string;
  /** The boot environment it belongs to, for the comment above its lines. */
  be: string;
}

export interface ExportsOptions {
  format: ExportsFormat;
  /** nfs.network, CIDR; null refuses. */
  network: string | null;
  /** nfs.maproot: a user name or uid (`root`, `0`, `nobody`, `65534`). */
  maproot: string;
  /** Allow maproot=root to 0.0.0.0/0 (nfs.allowWorldRoot or --force). */
  allowWorldRoot?: boolean;
}

export const exportsHeader = '# Written by be from its boot environments (nfs.exportsFile). Do not edit: be rewrites this file.';

const isRootUser = (user: string): boolean => user === 'root' || user === '0';

/** Check the refusals; returns the parsed network. */
export function checkExportPolicy(options: ExportsOptions): { network: string; prefix: number } {
  if (options.network === null) {
    throw new BeError('E_CONFIG', "nfs.network is not set: exports are refused until it names the clients' network (e.g. --set nfs.network=192.168.2.0/24)");
  }
  const net = parseCidr(options.network);
  if (net.prefix === 0 && isRootUser(options.maproot) && !options.allowWorldRoot) {
    throw new BeError(
      'E_CONFIG',
      `nfs.network ${options.network} with nfs.maproot=${options.maproot} would give root on these boot environments to every address: refused (set nfs.allowWorldRoot=true or pass --force to mean it)`,
    );
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(options.maproot))
    throw new BeError('E_CONFIG', `nfs.maproot ${JSON.stringify(options.maproot)} is not a user name or uid`);
  return net;
}

/** Paths go into the file unquoted (exports(5) splits on blanks), so only plain absolute paths pass. */
function checkPath(path: string): void {
  if (!/^\/[A-Za-z0-9_.,:@+=%~/-]*$/.test(path) || path.includes('//') || /(^|\/)\.\.?(\/|$)/.test(path)) {
    throw new BeError(
      'E_CONFIG',
      `cannot export ${JSON.stringify(path)}: only absolute paths of letters, digits and _.,:@+=%~- are written to an exports file`,
    );
  }
}

function sortedUnique(entries: readonly ExportEntry[]): ExportEntry[] {
  const seen = new Map<string, ExportEntry>();
  for (const e of entries) {
    checkPath(e.path);
    if (!seen.has(e.path)) seen.set(e.path, e);
  }
  return [...seen.values()].sort((a, b) => (a.be !== b.be ? (a.be < b.be ? -1 : 1) : a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Group lines under one `# be NAME` comment per boot environment. */
function grouped(entries: readonly ExportEntry[], line: (e: ExportEntry) => string): string {
  const out = [exportsHeader];
  let current: string | undefined;
  for (const e of entries) {
    if (e.be !== current) {
      out.push(`# be ${e.be}`);
      current = e.be;
    }
    out.push(line(e));
  }
  return `${out.join('\n')}\n`;
}

/**
 * Export_Id for ganesha: 1-65535, 0 being its pseudo root. Derived from the path (FNV-1a), so adding a
 * boot environment does not renumber the others (ganesha puts the id in its handles); collisions take
 * the next free id, in path order.
 */
export function ganeshaExportIds(paths: readonly string[]): Map<string, number> {
  const ids = new Map<string, number>();
  const used = new Set<number>();
  for (const path of [...paths].sort()) {
    let h = 0x811c9dc5;
    for (const byte of Buffer.from(path)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
    let id = (h % 64535) + 1000;
    while (used.has(id)) id = id === 65535 ? 1000 : id + 1;
    used.add(id);
    ids.set(path, id);
  }
  return ids;
}

export function buildExports(entries: readonly ExportEntry[], options: ExportsOptions): string {
  const { network, prefix } = checkExportPolicy(options);
  const list = sortedUnique(entries);
  const root = isRootUser(options.maproot);
  switch (options.format) {
    case 'freebsd':
      return grouped(list, (e) => `${e.path} -maproot=${options.maproot} -network ${network} -mask ${prefixToMask(prefix)}`);
    case 'linux': {
      let squash = 'no_root_squash';
      if (!root) squash = /^\d+$/.test(options.maproot) ? `root_squash,anonuid=${options.maproot}` : 'root_squash';
      return grouped(list, (e) => `${e.path} ${network}/${prefix}(rw,${squash},no_subtree_check,sync)`);
    }
    case 'ganesha': {
      const ids = ganeshaExportIds(list.map((e) => e.path));
      const squash = root ? 'No_Root_Squash' : 'Root_Squash';
      const anon = !root && /^\d+$/.test(options.maproot) ? `\tAnonymous_Uid = ${options.maproot};\n` : '';
      const out = [exportsHeader];
      let current: string | undefined;
      for (const e of list) {
        if (e.be !== current) {
          current = e.be;
          out.push(`# be ${current}`);
        }
        out.push(
          `EXPORT {\n\tExport_Id = ${ids.get(e.path)};\n\tPath = "${e.path}";\n\tPseudo = "${e.path}";\n\tProtocols = 3, 4;\n\tTransports = TCP, UDP;\n\tSecType = sys;\n\tAccess_Type = None;\n\tSquash = ${squash};\n${anon}\tCLIENT {\n\t\tClients = ${network}/${prefix};\n\t\tAccess_Type = RW;\n\t}\n\tFSAL {\n\t\tName = VFS;\n\t}\n}`,
        );
      }
      return `${out.join('\n')}\n`;
    }
  }
}

/**
 * The entries for the shared boot environments: one per mounted dataset (canmount=off ones hold no
 * files of their own). What cannot be exported is reported, not silently dropped.
 */
export function exportEntriesFor(
  envs: readonly { name: string; datasets: readonly { name: string; canmount: string; path: string | null }[] }[],
  shared: readonly string[],
): { entries: ExportEntry[]; problems: string[] } {
  const entries: ExportEntry[] = [];
  const problems: string[] = [];
  for (const name of [...shared].sort()) {
    const be = envs.find((e) => e.name === name);
    if (!be) {
      problems.push(`boot environment ${name} is shared but no longer exists`);
      continue;
    }
    for (const d of be.datasets) {
      if (d.canmount === 'off') continue;
      if (d.path === null) problems.push(`${d.name} (boot environment ${name}) is not mounted: be mount ${name}`);
      else entries.push({ be: name, path: d.path });
    }
  }
  return { entries, problems };
}
