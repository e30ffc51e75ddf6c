/**
 * Waiting for something nothing tells the test about (a file a peer writes, a daemon that starts
 * answering, a lock another suite holds): poll until a check gives a value. The timeout is a bound on
 * waiting so a broken test ends, never a timing assertion; the error names what was waited for.
 */

export interface WaitOptions {
  /** How long to keep trying before giving up. Default 20 s. */
  timeoutMs?: number;
  /** Pause between checks. Default 100 ms. */
  intervalMs?: number;
  /** The error message when the bound passes (a function: read only then, e.g. a daemon's log). */
  message?: string | (() => string);
}

/**
 * Calls `check` until it returns something other than `undefined` or `false`, and resolves with that.
 * It is checked once more after the bound passes, then this rejects. An error thrown by `check` (the
 * thing waited for has failed for good) rejects at once.
 */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 100 } = options;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) {
      const { message } = options;
      throw new Error(typeof message === 'function' ? message() : (message ?? `gave up waiting for ${what} within ${timeoutMs} ms`));
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
