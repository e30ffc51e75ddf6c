/**
 * The mount table, which says where a dataset is mounted now: FreeBSD's `mount -p` (fstab(5) format:
 * device, mount point, type, options, dump, pass; separated by tabs or spaces) and Linux's
 * /proc/self/mounts (same six fields). Both escape blanks in a field as octal (`\040`).
 */

export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
  options: string[];
}

/** Undo the `\ooo` octal escapes the kernel (Linux) and fstab(5) (FreeBSD) use for blanks and backslashes. */
export function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export class MountTableError extends Error {
  override readonly name = 'MountTableError';
}

/** Parse either format; both are "one mount per line, whitespace-separated fields". */
export function parseMountTable(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  text.split('\n').forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = trimmed.split(/[ \t]+/);
    if (fields.length < 3) throw new MountTableError(`mount table line ${index + 1}: expected at least 3 fields: ${JSON.stringify(line)}`);
    entries.push({
      source: unescapeOctal(fields[0]!),
      target: unescapeOctal(fields[1]!),
      fstype: fields[2]!,
      options: fields[3] ? fields[3].split(',') : [],
    });
  });
  return entries;
}

/** ZFS datasets in the table: `zfs` on FreeBSD, `fuse.zfs` under zfs-fuse, `zfs` on Linux OpenZFS. */
export function isZfsMount(entry: MountEntry): boolean {
  return entry.fstype === 'zfs' || entry.fstype === 'fuse.zfs';
}

/**
 * Where each ZFS dataset is mounted now. When a dataset appears more than once, the last line wins:
 * tables list mounts in the order they were made, and the newest one is what a path lookup reaches.
 */
export function zfsMountPoints(entries: readonly MountEntry[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of entries) if (isZfsMount(e)) map.set(e.source, e.target);
  return map;
}
