import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatHandle, handleEnv, parseHandle, toV2Handle } from '../../../src/nfs/handle.js';

// The beginning of the handle on the talk's bhyveload slide; the rest is elided there.
const talkPrefix = 'X631083b5dea37b8';

describe('NFS handles as the FreeBSD kernel reads them', () => {
  const h28 = Buffer.from('631083b5dea37b8a0a000400000000000aff0c00000000000000', 'hex');
  const handle = Buffer.concat([h28, Buffer.from([1, 2])]);

  it('formats X + lowercase hex + X with the v3 length', () => {
    expect(handle).toHaveLength(28);
    const text = formatHandle(handle);
    expect(text.startsWith(talkPrefix)).toBe(true);
    expect(text).toMatch(/^X[0-9a-f]{56}X$/);
    expect(handleEnv(handle)).toEqual({ 'boot.nfsroot.nfshandle': text, 'boot.nfsroot.nfshandlelen': '28' });
  });

  it('the v2 form is 32 bytes, zero-padded, without nfshandlelen', () => {
    const v2 = toV2Handle(handle);
    expect(v2).toHaveLength(32);
    expect(v2.subarray(28)).toEqual(Buffer.alloc(4));
    expect(handleEnv(handle, 2)).toEqual({ 'boot.nfsroot.nfshandle': formatHandle(v2) });
    expect(() => toV2Handle(Buffer.alloc(33))).toThrow(/does not fit/);
  });

  it('parses back what it formats, v3 and v2', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        expect(parseHandle(formatHandle(bytes), bytes.length)).toEqual(Buffer.from(bytes));
      }),
    );
    expect(parseHandle(formatHandle(toV2Handle(handle)))).toEqual(toV2Handle(handle));
  });

  it('refuses what the kernel refuses, with its words', () => {
    const text = formatHandle(handle);
    expect(() => parseHandle(text.slice(0, -1), 28)).toThrow(/no NFS handle: it must end with "X"/);
    expect(() => parseHandle(text.slice(1), 28)).toThrow(/no NFS handle: it must start with "X"/);
    expect(() => parseHandle('X0X', 1)).toThrow(/odd number/);
    expect(() => parseHandle('Xzz00X', 2)).toThrow(/only hex digits/);
    expect(() => parseHandle(text, 27)).toThrow(/bad NFS handle len: 28 bytes, expected 27/);
    expect(() => parseHandle(text, 29)).toThrow(/bad NFS handle len: 28 bytes decoded, nfshandlelen says 29/);
    expect(() => parseHandle(text, 65)).toThrow(/bad NFS handle len 65/);
    expect(() => parseHandle(text)).toThrow(/the NFSv2 path needs 32/);
    expect(() => parseHandle('XX', 1)).toThrow(/must end|len/);
    // sscanf("%2x") takes either case.
    expect(parseHandle('XABcdX', 2)).toEqual(Buffer.from([0xab, 0xcd]));
  });

  it('refuses to format an empty or oversized handle', () => {
    expect(() => formatHandle(Buffer.alloc(0))).toThrow(/1-64 bytes/);
    expect(() => formatHandle(Buffer.alloc(65))).toThrow(/1-64 bytes/);
  });
});
