/**
 * `be bisect`: the bisection of src/hunt/bisect.ts driven by a hunt run, so every step is a release
 * tested as `be hunt` tests it (its BE made and installed when missing, its log and result kept in
 * the bisection's own run directory).
 */
import { BeError } from '../../src/errors.js';
import { type BisectAnswer, Bisection } from '../../src/hunt/bisect.js';
import type { ReleaseResult } from '../../src/hunt/types.js';
import type { Release } from '../../src/install/release.js';
import type { HuntRun } from './hunt.js';

export interface BisectOutcome {
  answer: BisectAnswer;
  /** Every release tested, in the order tested. */
  steps: ReleaseResult[];
}

/** The ends of a bisection over the releases, checked before anything runs (a usage error otherwise). */
export function bisection(releases: readonly Release[], good: Release, bad: Release): Bisection {
  try {
    return new Bisection(
      releases.map((r) => r.name),
      good.name,
      bad.name,
    );
  } catch (err) {
    throw new BeError('E_USAGE', (err as Error).message);
  }
}

export async function bisectRun(run: HuntRun, bisection: Bisection, onStep?: (step: number, result: ReleaseResult) => void): Promise<BisectOutcome> {
  const releases = run.releases;
  const steps: ReleaseResult[] = [];
  for (let name = bisection.next(); name !== undefined; name = bisection.next()) {
    const result = await run.test(releases.find((r) => r.name === name)!);
    steps.push(result);
    onStep?.(steps.length, result);
    // An error says nothing about the release: no answer can be built on it.
    if (result.verdict === 'error') throw new BeError('E_EXEC', `bisect stopped: ${name} could not be tested (${result.detail ?? 'error'}); see ${result.log}`);
    bisection.record(name, result.verdict);
  }
  return { answer: bisection.answer()!, steps };
}
