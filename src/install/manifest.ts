/**
 * What a release's distribution directory says about its sets, parsed strictly: a line that does not
 * parse is an error naming the file and the line, never skipped (an installer that skips what it cannot
 * read installs what it did not verify).
 *
 * - 9.0 and later: `MANIFEST`, made by release/scripts/make-manifest.sh, one tab-separated line a set:
 *   `base.txz <sha256> <number of files> base "Base system (MANDATORY)" on`.
 * - 5.x to 8.x: per set directory, `<set>.inf` from release/scripts/info.sh (`Pieces = 58`, then
 *   `cksum.aa = <CRC> <bytes>` a piece, POSIX cksum(1)), and `CHECKSUM.SHA256` / `CHECKSUM.MD5` in the
 *   BSD format of sha256(1)/md5(1): `SHA256 (base.aa) = <hex>`.
 */

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

export interface ManifestEntry {
  /** The file, e.g. base.txz. */
  file: string;
  /** Lowercase hex. */
  sha256: string;
  /** Entries in the archive (tar tvf | wc -l): the extraction progress's total. */
  files: number;
  /** The set's name as bsdinstall shows it (base, kernel, lib32, kernel_dbg). */
  set: string;
  description: string;
  /** Whether bsdinstall selects it by default. */
  selected: boolean;
}

/** Parses a 9.0+ MANIFEST. */
export function parseManifest(text: string, file = 'MANIFEST'): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const fields = line.split('\t');
    const where = `${file}:${index + 1}`;
    if (fields.length < 6)
      throw new ManifestError(`${where}: expected 6 tab-separated fields (file, sha256, files, set, description, default), got ${fields.length}`);
    const [name, sha256, count, set, description, selected] = fields as [string, string, string, string, string, string];
    if (!/^[\w.-]+\.txz$/.test(name)) throw new ManifestError(`${where}: "${name}" is not a .txz set`);
    if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw new ManifestError(`${where}: ${name}: "${sha256}" is not a SHA-256 in hex`);
    if (!/^\d+$/.test(count)) throw new ManifestError(`${where}: ${name}: file count "${count}" is not a number`);
    entries.push({
      file: name,
      sha256: sha256.toLowerCase(),
      files: Number(count),
      set,
      description: description.replace(/^"(.*)"$/, '$1'),
      selected: selected.trim() === 'on',
    });
  });
  if (entries.length === 0) throw new ManifestError(`${file}: no sets listed`);
  return entries;
}

export interface SplitSetInfo {
  pieces: number;
  /** POSIX cksum CRC and size of each piece, by suffix (aa, ab, ...). */
  cksums: Map<string, { crc: number; size: number }>;
}

/** Parses a 5.x-8.x `<set>.inf` (release/scripts/info.sh). */
export function parseInf(text: string, file: string): SplitSetInfo {
  let pieces: number | undefined;
  const cksums = new Map<string, { crc: number; size: number }>();
  text.split('\n').forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const where = `${file}:${index + 1}`;
    const piecesMatch = /^Pieces\s*=\s*(\d+)$/.exec(trimmed);
    if (piecesMatch) {
      pieces = Number(piecesMatch[1]);
      return;
    }
    const cksum = /^cksum\.([a-z]{2})\s*=\s*(\d+)\s+(\d+)$/.exec(trimmed);
    if (cksum) {
      cksums.set(cksum[1]!, { crc: Number(cksum[2]), size: Number(cksum[3]) });
      return;
    }
    throw new ManifestError(`${where}: not "Pieces = N" nor "cksum.xx = CRC SIZE": ${JSON.stringify(trimmed.slice(0, 80))}`);
  });
  if (pieces === undefined) throw new ManifestError(`${file}: no "Pieces = N" line`);
  if (cksums.size !== pieces) throw new ManifestError(`${file}: says ${pieces} pieces but lists ${cksums.size} checksums`);
  const expected = pieceNames(pieces);
  const missing = expected.find((suffix) => !cksums.has(suffix));
  if (missing) throw new ManifestError(`${file}: no checksum for piece ${missing}`);
  return { pieces, cksums };
}

/** The suffixes split(1) gives N pieces: aa, ab, ..., az, ba, ... (at most 676). */
export function pieceNames(count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 676) throw new ManifestError(`a split set has 1 to 676 pieces, not ${count}`);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from({ length: count }, (_, i) => `${letters[Math.floor(i / 26)]}${letters[i % 26]}`);
}

export type DigestName = 'sha256' | 'md5';

/** Parses CHECKSUM.SHA256 or CHECKSUM.MD5 (`SHA256 (base.aa) = hex`): file name → lowercase hex. */
export function parseChecksums(text: string, file: string): { algorithm: DigestName; sums: Map<string, string> } {
  const sums = new Map<string, string>();
  let algorithm: DigestName | undefined;
  text.split('\n').forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '') return;
    const match = /^(SHA256|MD5) \((.+)\) = ([0-9a-fA-F]+)$/.exec(trimmed);
    const where = `${file}:${index + 1}`;
    if (!match) throw new ManifestError(`${where}: not "SHA256 (file) = hex" nor "MD5 (file) = hex"`);
    const name = match[1] === 'SHA256' ? 'sha256' : 'md5';
    if (algorithm !== undefined && algorithm !== name) throw new ManifestError(`${where}: mixes ${algorithm} and ${name}`);
    algorithm = name;
    const hex = match[3]!.toLowerCase();
    if (hex.length !== (name === 'sha256' ? 64 : 32))
      throw new ManifestError(`${where}: ${match[2]}: a ${match[1]} is ${name === 'sha256' ? 64 : 32} hex digits`);
    sums.set(match[2]!, hex);
  });
  if (algorithm === undefined) throw new ManifestError(`${file}: no checksums listed`);
  return { algorithm, sums };
}
