/**
 * Stand-ins for FreeBSD's bhyveload, bhyve and bhyvectl, which cannot run here (no FreeBSD, no VT-x).
 * They record their argv and exit with the statuses a test queues, replaying bhyve's documented exit
 * codes (vmrun.sh: 0 reset, 1 powered off, 2 halted, 3 triple fault, else error). They test the
 * launch loop around bhyve, not bhyve. `hang` makes one run until it is signalled.
 */
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = `#!/bin/sh
tool=$(basename "$0")
printf '%s\\n' "$tool $*" >> "$BE_FAKE_DIR/calls"
queue="$BE_FAKE_DIR/$tool.statuses"
status=0
if [ -s "$queue" ]; then
  status=$(head -n 1 "$queue")
  tail -n +2 "$queue" > "$queue.next" && mv "$queue.next" "$queue"
fi
if [ "$status" = hang ]; then
  trap 'exit 143' TERM INT
  echo running > "$BE_FAKE_DIR/$tool.running"
  while :; do sleep 0.05; done
fi
exit "$status"
`;

export class BhyveStandIns {
  readonly dir = mkdtempSync(join(tmpdir(), 'be-bhyve-fakes-'));
  readonly env: Record<string, string>;

  constructor() {
    for (const tool of ['bhyveload', 'bhyve', 'bhyvectl']) {
      writeFileSync(join(this.dir, tool), script);
      chmodSync(join(this.dir, tool), 0o755);
    }
    this.env = { PATH: `${this.dir}:${process.env.PATH ?? ''}`, BE_FAKE_DIR: this.dir };
  }

  /** Queue exit statuses (or 'hang') for the next runs of a tool. */
  queue(tool: 'bhyveload' | 'bhyve' | 'bhyvectl', ...statuses: (number | 'hang')[]): void {
    appendFileSync(join(this.dir, `${tool}.statuses`), statuses.map((s) => `${s}\n`).join(''));
  }

  calls(): string[] {
    try {
      return readFileSync(join(this.dir, 'calls'), 'utf8').trimEnd().split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }

  reset(): void {
    for (const file of ['calls', 'bhyveload.statuses', 'bhyve.statuses', 'bhyvectl.statuses', 'bhyve.running']) {
      rmSync(join(this.dir, file), { force: true });
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function isRunning(fakes: BhyveStandIns, tool: string): boolean {
  try {
    return readFileSync(join(fakes.dir, `${tool}.running`), 'utf8').trim() === 'running';
  } catch {
    return false;
  }
}
