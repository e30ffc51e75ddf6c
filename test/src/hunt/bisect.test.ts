import { describe, expect, it } from 'vitest';
import { Bisection } from '../../../src/hunt/bisect.js';
import { parseReleaseList, chronological, environmentFor } from '../../../src/hunt/releases.js';
import { verdictOfStatus } from '../../../src/hunt/verdict.js';
import { parseRelease } from '../../../src/install/release.js';

const nine = ['9.3', '10.4', '11.4', '12.4', '13.0', '13.1', '13.2', '13.3', '14.1'].map((r) => `${r}-RELEASE`);

/** Runs a bisection to its answer with `verdictOf` as the test; returns the answer and the releases tested. */
function bisect(releases: readonly string[], good: string, bad: string, verdictOf: (release: string) => 'good' | 'bad' | 'skip') {
  const b = new Bisection(releases, good, bad);
  const tested: string[] = [];
  for (let release = b.next(); release !== undefined; release = b.next()) {
    tested.push(release);
    b.record(release, verdictOf(release));
    if (tested.length > releases.length) throw new Error('bisection does not end');
  }
  return { answer: b.answer(), tested };
}

describe('bisect', () => {
  it('finds the first bad of nine releases, wherever it is, in at most ceil(log2 9) + 2 runs, the ends first', () => {
    const limit = Math.ceil(Math.log2(9)) + 2;
    for (let first = 1; first < nine.length; first++) {
      const { answer, tested } = bisect(nine, nine[0]!, nine[8]!, (r) => (nine.indexOf(r) >= first ? 'bad' : 'good'));
      expect(answer).toEqual({ kind: 'found', firstBad: nine[first], lastGood: nine[first - 1], skipped: [] });
      expect(tested.slice(0, 2)).toEqual([nine[0], nine[8]]);
      expect(tested.length).toBeLessThanOrEqual(limit);
      expect(new Set(tested).size).toBe(tested.length);
    }
  });

  it('a skipped release (125) is set aside and a neighbour tested; skips around the answer leave a range', () => {
    // First bad is 13.1; 12.4 and 13.0 cannot be tested.
    const first = nine.indexOf('13.1-RELEASE');
    const cannot = new Set(['12.4-RELEASE', '13.0-RELEASE']);
    const { answer, tested } = bisect(nine, nine[0]!, nine[8]!, (r) => (cannot.has(r) ? 'skip' : nine.indexOf(r) >= first ? 'bad' : 'good'));
    expect(answer).toEqual({ kind: 'found', firstBad: '13.1-RELEASE', lastGood: '11.4-RELEASE', skipped: ['12.4-RELEASE', '13.0-RELEASE'] });
    expect(tested).toContain('12.4-RELEASE');
    // One skip in the middle, the answer elsewhere: still exact.
    const one = bisect(nine, nine[0]!, nine[8]!, (r) => (r === '12.4-RELEASE' ? 'skip' : nine.indexOf(r) >= 6 ? 'bad' : 'good'));
    expect(one.answer).toEqual({ kind: 'found', firstBad: '13.2-RELEASE', lastGood: '13.1-RELEASE', skipped: [] });
  });

  it('refuses when the good end is not good or the bad end not bad, after testing only the ends', () => {
    expect(bisect(nine, nine[0]!, nine[8]!, () => 'bad')).toEqual({
      answer: { kind: 'refused', reason: '--good 9.3-RELEASE is not good: it tested bad' },
      tested: ['9.3-RELEASE'],
    });
    expect(bisect(nine, nine[0]!, nine[8]!, () => 'good')).toEqual({
      answer: { kind: 'refused', reason: '--bad 14.1-RELEASE is not bad: it tested good' },
      tested: ['9.3-RELEASE', '14.1-RELEASE'],
    });
    expect(() => new Bisection(nine, nine[4]!, nine[2]!)).toThrow('--good 13.0-RELEASE must be older than --bad 11.4-RELEASE');
    expect(() => new Bisection(nine, '8.4-RELEASE', nine[2]!)).toThrow(/^--good 8\.4-RELEASE: not among the releases/);
  });

  it('refuses a verdict for a release it did not ask for', () => {
    const b = new Bisection(nine, nine[0]!, nine[8]!);
    expect(() => b.record(nine[3]!, 'good')).toThrow('bisect: 12.4-RELEASE is not the release to test now (9.3-RELEASE)');
  });
});

describe('releases and verdicts', () => {
  it('reads a releases file: comments, commas, duplicates, oldest first, the line of a bad one', () => {
    const list = parseReleaseList('# hunted\n13.0\n12.4, 14.1-RELEASE\n\n13.0-RELEASE  # again\n', 'release', 'releases.txt');
    expect(list.map((r) => r.name)).toEqual(['12.4-RELEASE', '13.0-RELEASE', '14.1-RELEASE']);
    expect(() => parseReleaseList('13.0\nfourteen\n', 'release', 'releases.txt')).toThrow(/^releases\.txt:2: -r fourteen: not a release/);
    expect(() => parseReleaseList('# nothing\n', 'release', 'releases.txt')).toThrow('releases.txt: no releases');
  });

  it('orders pre-releases before their release, snapshots after it', () => {
    const names = ['14.2-RELEASE', '14.2-RC1', '14.2-BETA2', '14.2-BETA10', '14.1-RELEASE', '14.2-STABLE'];
    const releases = names.map((n) => parseRelease(n, /STABLE/.test(n) ? 'snapshot' : 'release'));
    expect(chronological(releases).map((r) => r.name)).toEqual(['14.1-RELEASE', '14.2-BETA2', '14.2-BETA10', '14.2-RC1', '14.2-RELEASE', '14.2-STABLE']);
  });

  it('names the BE of a release r<version>', () => {
    expect(environmentFor(parseRelease('14.1'))).toBe('r14.1');
    expect(environmentFor(parseRelease('15.0-CURRENT', 'snapshot'))).toBe('r15.0-CURRENT');
  });

  it('reads exit statuses as git bisect run does: 0 good, 125 skip, others bad', () => {
    expect([0, 1, 2, 124, 125, 126, 127, 139, 255].map(verdictOfStatus)).toEqual(['good', 'bad', 'bad', 'bad', 'skip', 'bad', 'bad', 'bad', 'bad']);
  });
});
