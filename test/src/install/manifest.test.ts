import { describe, expect, it } from 'vitest';
import { parseChecksums, parseInf, parseManifest, pieceNames } from '../../../src/install/manifest.js';

const sha = (c: string) => c.repeat(64);

describe('release manifests', () => {
  it('reads a 9.0+ MANIFEST (release/scripts/make-manifest.sh: tab-separated, quoted description)', () => {
    const text = [
      `base.txz\t${sha('A')}\t26523\tbase\t"Base system (MANDATORY)"\ton`,
      `kernel-dbg.txz\t${sha('b')}\t900\tkernel_dbg\t"Kernel (Debugging)"\toff`,
      '',
    ].join('\n');
    expect(parseManifest(text)).toEqual([
      { file: 'base.txz', sha256: sha('a'), files: 26523, set: 'base', description: 'Base system (MANDATORY)', selected: true },
      { file: 'kernel-dbg.txz', sha256: sha('b'), files: 900, set: 'kernel_dbg', description: 'Kernel (Debugging)', selected: false },
    ]);
  });

  it('refuses what it cannot read, naming the file and line', () => {
    expect(() => parseManifest('base.txz deadbeef 1 base x on\n')).toThrow('MANIFEST:1: expected 6 tab-separated fields');
    expect(() => parseManifest(`base.txz\tdeadbeef\t1\tbase\t"x"\ton\n`)).toThrow('MANIFEST:1: base.txz: "deadbeef" is not a SHA-256 in hex');
    expect(() => parseManifest(`base.tgz\t${sha('a')}\t1\tbase\t"x"\ton\n`)).toThrow('"base.tgz" is not a .txz set');
    expect(() => parseManifest('\n\n')).toThrow('MANIFEST: no sets listed');
  });

  it('reads a split set .inf (release/scripts/info.sh) and checks the piece count', () => {
    const inf = 'Pieces =  3\ncksum.aa = 123 1425408\ncksum.ab = 456 1425408\ncksum.ac = 789 1000\n';
    const parsed = parseInf(inf, 'base/base.inf');
    expect(parsed.pieces).toBe(3);
    expect(parsed.cksums.get('ac')).toEqual({ crc: 789, size: 1000 });
    expect(() => parseInf('Pieces = 3\ncksum.aa = 1 2\ncksum.ab = 3 4\n', 'base.inf')).toThrow('base.inf: says 3 pieces but lists 2 checksums');
    expect(() => parseInf('Pieces = 2\ncksum.aa = 1 2\ncksum.ac = 3 4\n', 'base.inf')).toThrow('base.inf: no checksum for piece ab');
    expect(() => parseInf('cksum.aa = 1 2\n', 'base.inf')).toThrow('base.inf: no "Pieces = N" line');
    expect(() => parseInf('Pieces = 1\nbogus\n', 'base.inf')).toThrow('base.inf:2: not "Pieces = N"');
  });

  it('names pieces as split(1) does', () => {
    expect(pieceNames(3)).toEqual(['aa', 'ab', 'ac']);
    expect(pieceNames(28).slice(25)).toEqual(['az', 'ba', 'bb']);
    expect(() => pieceNames(0)).toThrow();
  });

  it('reads CHECKSUM.SHA256 and CHECKSUM.MD5 (sha256(1)/md5(1) BSD format)', () => {
    const sums = parseChecksums(`SHA256 (base.aa) = ${sha('C')}\nSHA256 (base.inf) = ${sha('d')}\n`, 'base/CHECKSUM.SHA256');
    expect(sums.algorithm).toBe('sha256');
    expect(sums.sums.get('base.aa')).toBe(sha('c'));
    expect(parseChecksums(`MD5 (base.ab) = ${'e'.repeat(32)}\n`, 'CHECKSUM.MD5').algorithm).toBe('md5');
    expect(() => parseChecksums(`MD5 (base.ab) = ${'e'.repeat(31)}\n`, 'CHECKSUM.MD5')).toThrow('CHECKSUM.MD5:1: base.ab: a MD5 is 32 hex digits');
    expect(() => parseChecksums(`MD5 (a) = ${'e'.repeat(32)}\nSHA256 (b) = ${sha('f')}\n`, 'C')).toThrow('C:2: mixes md5 and sha256');
    expect(() => parseChecksums('base.aa: ok\n', 'C')).toThrow('C:1: not "SHA256 (file) = hex"');
  });
});
