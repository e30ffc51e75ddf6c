/**
 * The memory a test process still uses, for streaming tests: what must not grow with a file is what
 * is alive, not the resident size (V8 grows its young generation and lets dead chunks pile up until a
 * collection: measured RSS +26..50 MiB early in a download, then flat). So collect first (gc exposed
 * at run time) and count heap + ArrayBuffers.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes alive now: heap used plus ArrayBuffers, after two full collections. */
export function liveBytes(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // Twice: V8 frees dead ArrayBuffers on a background sweeper after a collection, so right after one
  // gc() up to ~12 MiB of dead chunks can still be counted; the second collection waits for that sweep.
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
