import { describe, expect, it } from 'vitest';
import { httpDate, parseRange, planFile, type FileFacts } from '../../../src/http/range.js';

describe('parseRange (RFC 9110 §14.1.2)', () => {
  it.each([
    ['bytes=0-499', { kind: 'part', start: 0, end: 499 }],
    ['bytes=500-999', { kind: 'part', start: 500, end: 999 }],
    ['bytes=500-', { kind: 'part', start: 500, end: 9999 }],
    ['bytes=-500', { kind: 'part', start: 9500, end: 9999 }],
    ['bytes=-20000', { kind: 'part', start: 0, end: 9999 }],
    ['bytes=9999-', { kind: 'part', start: 9999, end: 9999 }],
    ['bytes=0-0', { kind: 'part', start: 0, end: 0 }],
    ['bytes=9000-99999999999999999999', { kind: 'part', start: 9000, end: 9999 }],
    ['BYTES = 1-2', { kind: 'part', start: 1, end: 2 }],
    ['bytes=1-2,', { kind: 'part', start: 1, end: 2 }],
    ['bytes=10000-', { kind: 'unsatisfiable' }],
    ['bytes=10000-10010', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    // Ignored (§14.2): the whole file.
    ['bytes=0-1,5-6', { kind: 'whole' }],
    ['bytes=5-1', { kind: 'whole' }],
    ['items=0-1', { kind: 'whole' }],
    ['bytes=a-b', { kind: 'whole' }],
    ['bytes=', { kind: 'whole' }],
    ['bytes=-', { kind: 'whole' }],
    ['bytes=1.5-2', { kind: 'whole' }],
  ])('%j of 10000 bytes → %j', (header, expected) => {
    expect(parseRange(header, 10_000)).toEqual(expected);
  });

  it('an empty file satisfies no range', () => {
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange(undefined, 0)).toEqual({ kind: 'whole' });
  });
});

describe('planFile: status of a GET or HEAD', () => {
  const mtimeMs = Date.UTC(2024, 4, 1, 12, 0, 0, 250);
  const file: FileFacts = { size: 1000, mtimeMs, positional: true };
  const modified = httpDate(mtimeMs);

  it('is 200 for the whole file, 206 for one range, 416 for an unsatisfiable one', () => {
    expect(planFile({}, file)).toEqual({ status: 200, start: 0, end: 999 });
    expect(planFile({ range: 'bytes=10-19' }, file)).toEqual({ status: 206, start: 10, end: 19 });
    expect(planFile({ range: 'bytes=1000-' }, file)).toEqual({ status: 416 });
    expect(planFile({ range: 'bytes=0-1,3-4' }, file)).toEqual({ status: 200, start: 0, end: 999 });
  });

  it('is 304 when If-Modified-Since is not older than the file, at a second’s precision', () => {
    expect(modified).toBe('Wed, 01 May 2024 12:00:00 GMT');
    expect(planFile({ ifModifiedSince: modified }, file)).toEqual({ status: 304 });
    expect(planFile({ ifModifiedSince: 'Wed, 01 May 2024 12:00:01 GMT' }, file)).toEqual({ status: 304 });
    expect(planFile({ ifModifiedSince: 'Wed, 01 May 2024 11:59:59 GMT' }, file)).toMatchObject({ status: 200 });
    expect(planFile({ ifModifiedSince: 'not a date' }, file)).toMatchObject({ status: 200 });
    // RFC 850 and asctime forms (§5.6.7) are read too.
    expect(planFile({ ifModifiedSince: 'Wednesday, 01-May-24 12:00:00 GMT' }, file)).toEqual({ status: 304 });
    expect(planFile({ ifModifiedSince: 'Wed May  1 12:00:00 2024' }, { ...file, mtimeMs: Date.parse('Wed May  1 12:00:00 2024') })).toEqual({ status: 304 });
  });

  it('applies a Range under If-Range only when the date is the file’s own (§13.1.5); an entity tag never matches', () => {
    expect(planFile({ range: 'bytes=0-9', ifRange: modified }, file)).toEqual({ status: 206, start: 0, end: 9 });
    expect(planFile({ range: 'bytes=0-9', ifRange: 'Wed, 01 May 2024 11:00:00 GMT' }, file)).toMatchObject({ status: 200 });
    expect(planFile({ range: 'bytes=0-9', ifRange: '"abc"' }, file)).toMatchObject({ status: 200 });
    expect(planFile({ range: 'bytes=0-9', ifRange: 'W/"abc"' }, file)).toMatchObject({ status: 200 });
  });

  it('serves content without positional reads or a size whole, ranges ignored', () => {
    expect(planFile({ range: 'bytes=5-' }, { ...file, positional: false })).toEqual({ status: 200, start: 0, end: 999 });
    expect(planFile({ range: 'bytes=5-' }, { size: undefined, mtimeMs: undefined, positional: false })).toEqual({ status: 200, start: 0, end: undefined });
    expect(planFile({ ifModifiedSince: modified }, { ...file, mtimeMs: undefined })).toMatchObject({ status: 200 });
  });

  it('an empty file is 200 with nothing to send, and 416 to any range', () => {
    expect(planFile({}, { ...file, size: 0 })).toEqual({ status: 200, start: 0, end: -1 });
    expect(planFile({ range: 'bytes=0-' }, { ...file, size: 0 })).toEqual({ status: 416 });
  });
});
