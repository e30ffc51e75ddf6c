/**
 * Parse `zfs list -rH -o name,mountpoint,canmount,mounted -t filesystem ROOT`: one dataset per line,
 * four tab-separated columns (-H: no header, tabs). No `-p` is needed for these columns, which matters
 * because zfs-fuse's zfs has none.
 */

export type CanMount = 'on' | 'off' | 'noauto';

export interface ZfsRow {
  name: string;
  /** The mountpoint property: an absolute path, `none`, `legacy`, or `-`. */
  mountpoint: string;
  canmount: CanMount;
  mounted: boolean;
}

/** The exact argv after `zfs`, kept beside its parser so the columns cannot drift apart. */
export function zfsListArgs(root: string): string[] {
  return ['list', '-rH', '-o', 'name,mountpoint,canmount,mounted', '-t', 'filesystem', root];
}

export class ZfsListError extends Error {
  override readonly name = 'ZfsListError';
}

export function parseZfsList(text: string): ZfsRow[] {
  const rows: ZfsRow[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line === '') return;
    const cols = line.split('\t');
    if (cols.length !== 4) throw new ZfsListError(`zfs list line ${index + 1}: expected 4 tab-separated columns, got ${cols.length}: ${JSON.stringify(line)}`);
    const [name, mountpoint, canmount, mounted] = cols as [string, string, string, string];
    if (!/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/.test(name) || name.endsWith('/')) {
      throw new ZfsListError(`zfs list line ${index + 1}: ${JSON.stringify(name)} is not a dataset name`);
    }
    if (canmount !== 'on' && canmount !== 'off' && canmount !== 'noauto') {
      throw new ZfsListError(`zfs list line ${index + 1}: canmount ${JSON.stringify(canmount)} is not on, off or noauto`);
    }
    // `-` appears for datasets where the property does not apply; treat it as not mounted.
    if (mounted !== 'yes' && mounted !== 'no' && mounted !== '-') {
      throw new ZfsListError(`zfs list line ${index + 1}: mounted ${JSON.stringify(mounted)} is not yes or no`);
    }
    rows.push({ name, mountpoint, canmount, mounted: mounted === 'yes' });
  });
  return rows;
}
