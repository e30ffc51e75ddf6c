/**
 * Bisection over releases in the order they were made, as `git bisect` does over commits: the good end
 * is older than the bad end; each step tests the untested release nearest the middle of what is left
 * between the newest good and the oldest bad one. A skipped release (status 125) is set aside and a
 * neighbour tried; when only skipped releases are left between the two, the first bad one is among them
 * and the answer is that range. Pure: the caller runs the tests and reports each verdict.
 */
import type { Verdict } from './types.js';

export type BisectAnswer =
  /** The first bad release: `lastGood` is good, and every release between them was skipped. */
  | { kind: 'found'; firstBad: string; lastGood: string; skipped: string[] }
  /** The ends were checked and one of them is not what it was said to be. */
  | { kind: 'refused'; reason: string };

export class Bisection {
  private good: number;
  private bad: number;
  private readonly skipped = new Set<number>();
  private endsChecked = 0;
  private refusal: string | undefined;

  /** `releases` oldest first; `good` and `bad` are in it, good older than bad. */
  constructor(
    readonly releases: readonly string[],
    readonly goodEnd: string,
    readonly badEnd: string,
  ) {
    this.good = releases.indexOf(goodEnd);
    this.bad = releases.indexOf(badEnd);
    if (this.good < 0) throw new Error(`--good ${goodEnd}: not among the releases (${releases.join(', ')})`);
    if (this.bad < 0) throw new Error(`--bad ${badEnd}: not among the releases (${releases.join(', ')})`);
    if (this.good >= this.bad) throw new Error(`--good ${goodEnd} must be older than --bad ${badEnd}`);
  }

  /** The release to test next (the two ends first, good then bad), or undefined when there is an answer. */
  next(): string | undefined {
    if (this.refusal !== undefined) return undefined;
    if (this.endsChecked === 0) return this.releases[this.good];
    if (this.endsChecked === 1) return this.releases[this.bad];
    const candidates: number[] = [];
    for (let i = this.good + 1; i < this.bad; i++) if (!this.skipped.has(i)) candidates.push(i);
    if (candidates.length === 0) return undefined;
    const middle = (this.good + this.bad) / 2;
    // Nearest the middle; of two as near, the older (git bisect's midpoint rounds down too).
    candidates.sort((a, b) => Math.abs(a - middle) - Math.abs(b - middle) || a - b);
    return this.releases[candidates[0]!];
  }

  /** The verdict of the release next() named. An `error` verdict is the caller's to handle: it says nothing here. */
  record(release: string, verdict: Exclude<Verdict, 'error'>): void {
    const index = this.releases.indexOf(release);
    if (release !== this.next()) throw new Error(`bisect: ${release} is not the release to test now (${this.next() ?? 'none'})`);
    if (this.endsChecked === 0) {
      this.endsChecked = 1;
      if (verdict !== 'good') this.refusal = `--good ${release} is not good: it tested ${verdict}`;
      return;
    }
    if (this.endsChecked === 1) {
      this.endsChecked = 2;
      if (verdict !== 'bad') this.refusal = `--bad ${release} is not bad: it tested ${verdict}`;
      return;
    }
    if (verdict === 'good') this.good = index;
    else if (verdict === 'bad') this.bad = index;
    else this.skipped.add(index);
  }

  /** The answer, once next() is undefined. */
  answer(): BisectAnswer | undefined {
    if (this.refusal !== undefined) return { kind: 'refused', reason: this.refusal };
    if (this.next() !== undefined) return undefined;
    const between = this.releases.slice(this.good + 1, this.bad);
    return { kind: 'found', firstBad: this.releases[this.bad]!, lastGood: this.releases[this.good]!, skipped: between };
  }
}
