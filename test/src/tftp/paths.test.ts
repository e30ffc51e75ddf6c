import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeRequestPath } from '../../../src/tftp/paths.js';

describe('request path normalisation', () => {
  const accepted: [string, string][] = [
    ['pxeboot', 'pxeboot'],
    ['/pxeboot', 'pxeboot'],
    ['//boot///loader.efi', 'boot/loader.efi'],
    ['boot\\pxeboot', 'boot/pxeboot'],
    ['\\boot\\kernel\\kernel', 'boot/kernel/kernel'],
    ['./boot/./loader.rc', 'boot/loader.rc'],
    ['boot/', 'boot'],
    ['...', '...'],
    ['..foo', '..foo'],
    ['foo..', 'foo..'],
  ];
  it.each(accepted)('%j → %j', (name, path) => {
    expect(normalizeRequestPath(name)).toEqual({ ok: true, path });
  });

  /** The traversal corpus: every one is refused by name, before the file system is asked. */
  const refused: [string, RegExp][] = [
    ['', /empty file name/],
    ['/', /names the root directory/],
    ['.', /names the root directory/],
    ['//./', /names the root directory/],
    ['..', /"\.\." component/],
    ['../etc/passwd', /"\.\." component/],
    ['/../etc/passwd', /"\.\." component/],
    ['boot/../../etc/passwd', /"\.\." component/],
    ['boot/..', /"\.\." component/],
    ['..\\..\\windows\\win.ini', /"\.\." component/],
    ['boot\\..\\..\\etc\\shadow', /"\.\." component/],
    ['./../x', /"\.\." component/],
    ['a/b/c/../../../..', /"\.\." component/],
    ['a\0b', /NUL/],
  ];
  it.each(refused)('refuses %j', (name, reason) => {
    const result = normalizeRequestPath(name);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('never yields a path that is absolute, empty, or has a "." or ".." segment or a backslash', () => {
    const segment = fc.constantFrom('..', '.', '', 'boot', 'a', '\\', '/', '..\\', 'x y', '\u00e9');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(segment, fc.constantFrom('/', '\\', '')), { maxLength: 8 }).map((pairs) => pairs.map(([part, sep]) => part + sep).join('')),
        (name) => {
          const result = normalizeRequestPath(name);
          if (!result.ok) return;
          expect(result.path).not.toBe('');
          expect(result.path.startsWith('/')).toBe(false);
          expect(result.path).not.toContain('\\');
          for (const part of result.path.split('/')) expect(['', '.', '..']).not.toContain(part);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
