/** Waits for a line matching a pattern on a child's output, collecting everything seen. */
import type { Readable } from 'node:stream';

export class LineWatcher {
  readonly lines: string[] = [];
  private waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  private buffer = '';

  constructor(stream: Readable | null | undefined) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let newline = this.buffer.indexOf('\n'); newline >= 0; newline = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        this.lines.push(line);
        const matched = this.waiters.filter((w) => w.pattern.test(line));
        this.waiters = this.waiters.filter((w) => !matched.includes(w));
        for (const w of matched) w.resolve(line);
      }
    });
  }

  /** Resolves with the first line (seen before or after the call) that matches. */
  next(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return this.wait(pattern, timeoutMs);
  }

  /** Resolves with the next line from now on that matches. */
  wait(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; saw:\n${this.lines.slice(-20).join('\n')}`)),
        timeoutMs,
      );
      this.waiters.push({
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }
}
