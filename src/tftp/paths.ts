/**
 * A requested file name → a path relative to the server's root, or a refusal. Pure: this decides by the
 * name alone; the directory source then checks the opened file itself (symlinks, file type), because a
 * name that looks safe can still lead outside through a link.
 */
export type PathResult = { ok: true; path: string } | { ok: false; reason: string };

export function normalizeRequestPath(name: string): PathResult {
  if (name === '') return { ok: false, reason: 'empty file name' };
  if (name.includes('\0')) return { ok: false, reason: 'file name contains NUL' };
  // Windows PXE clients (WDS-style boot files) send backslashes; treat them as separators so
  // "boot\\pxeboot" and "boot/pxeboot" name the same file, and so "..\\" cannot slip past the check below.
  const parts = name.replaceAll('\\', '/').split('/');
  const kept: string[] = [];
  for (const part of parts) {
    // Leading "/" (firmware often sends absolute names), doubled "/" and "." segments carry no meaning.
    if (part === '' || part === '.') continue;
    // Any ".." is refused rather than resolved: no legitimate boot file name needs it, and refusing
    // keeps "a/../../etc" from being a puzzle about where the root ends.
    if (part === '..') return { ok: false, reason: 'file name contains a ".." component' };
    kept.push(part);
  }
  if (kept.length === 0) return { ok: false, reason: 'file name names the root directory' };
  return { ok: true, path: kept.join('/') };
}
