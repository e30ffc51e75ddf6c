/**
 * The bhyve runner, the freebsd-ci model: boot the BE as an NFS-root guest with `be bootnfs`'s own
 * preparation (mounted, shared with its guest fstab, the handle) and launch loop (runGuest), with a
 * one-shot rc script placed in the BE that runs the command, writes its output and exit status into
 * the BE and powers the guest off. The host streams the log while the guest runs and reads the status
 * after; a guest that has not powered off within the time limit is stopped and destroyed, and that is
 * a timeout. The rc script and the run directory are removed, and the BE unshared if it was not shared
 * before, on every exit path.
 */
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { joinPath } from '../../../src/be/inventory.js';
import { GuestError } from '../../../src/bhyve/guest.js';
import { resolveGuestSettings } from '../../../src/bhyve/settings.js';
import type { Config } from '../../../src/config/schema.js';
import { bhyveRcScript, guestRun, parseStatus } from '../../../src/jail/params.js';
import { BeOps } from '../../be/ops.js';
import { loadState } from '../../be/state.js';
import { runGuest } from '../../bhyve/launch.js';
import { prepareGuest, setUpNetwork } from '../../bhyve/prepare.js';
import { createLogger } from '../../log.js';
import type { Runner, RunOutcome, RunRequest } from '../runner.js';
import { aborted } from './exec.js';

/** The host whose guest settings (MAC, IP, tap, memory) the run uses: the bhyve host assigned to the BE, else the only bhyve host. */
function guestHost(config: Config, be: string): Config['hosts'][number] {
  const guests = config.hosts.filter((h) => h.boot === 'bhyve');
  const assigned = guests.filter((h) => h.be === be);
  if (assigned.length === 1) return assigned[0]!;
  if (assigned.length === 0 && guests.length === 1) return guests[0]!;
  throw new Error(
    guests.length === 0
      ? 'the bhyve runner needs a host with boot: bhyve in hosts[] (its mac, ip and bhyve settings make the guest)'
      : `several bhyve hosts could run ${be} (${(assigned.length ? assigned : guests).map((h) => h.name).join(', ')}): assign exactly one to it with be: ${be}`,
  );
}

/** Follows a file that another machine appends to (the guest, over NFS), handing each new piece to onOutput. */
class Tail {
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly onOutput: ((chunk: Buffer) => void) | undefined,
  ) {}

  start(intervalMs = 250): void {
    if (!this.onOutput) return;
    this.timer = setInterval(() => {
      this.reading = this.reading.then(() => this.read());
    }, intervalMs);
  }

  private async read(): Promise<void> {
    const handle = await open(this.file, 'r').catch(() => undefined);
    if (!handle) return;
    try {
      const { size } = await handle.stat();
      if (size < this.offset) this.offset = 0; // the guest started the file over
      while (this.offset < size) {
        const buffer = Buffer.alloc(Math.min(size - this.offset, 1 << 20));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.onOutput?.(buffer.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
  }

  /** Stops following, after reading what is left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (!this.onOutput) return;
    await this.reading;
    await this.read();
  }
}

export class BhyveRunner implements Runner {
  readonly name = 'bhyve' as const;

  async run(request: RunRequest): Promise<RunOutcome> {
    if (request.parameters?.length) return { kind: 'failed', reason: 'jail(8) parameters (-o) are for the jail runner, not bhyve' };
    if (request.interactive) return { kind: 'failed', reason: 'the bhyve runner runs the command from an rc script in the guest: it has no terminal to offer' };
    const { config, be, root } = request;
    let settings;
    try {
      settings = resolveGuestSettings(config, be, guestHost(config, be));
    } catch (err) {
      return { kind: 'failed', reason: err instanceof GuestError ? err.message : (err as Error).message };
    }
    const script = joinPath(root, guestRun.script);
    const dir = joinPath(root, guestRun.dir);
    const log = joinPath(dir, 'log');
    const tail = new Tail(log, request.onOutput);
    const wasShared = (await loadState(config.server.stateDir)).shared.includes(be);
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    request.signal?.addEventListener('abort', onAbort);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      if (request.signal?.aborted) return { kind: 'failed', reason: aborted };
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await mkdir(dirname(script), { recursive: true });
      await writeFile(script, bhyveRcScript({ command: request.command }), { mode: 0o755 });
      const prepared = await prepareGuest(config, settings, { signal: stop.signal });
      await setUpNetwork(prepared, stop.signal);
      if (request.timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          stop.abort();
        }, request.timeoutMs);
      }
      tail.start();
      const guest = await runGuest(prepared.spec, { log: createLogger({ level: 'warn', destination: process.stderr }), signal: stop.signal });
      await tail.stop();
      if (timedOut) return { kind: 'timeout' };
      if (request.signal?.aborted) return { kind: 'failed', reason: aborted };
      const status = parseStatus((await readFile(joinPath(dir, 'status'), 'utf8').catch(() => '')) || '');
      if (status !== undefined) return { kind: 'exited', exitCode: status };
      return {
        kind: 'failed',
        reason: `guest ${prepared.spec.vm} ended (${guest.outcome}, status ${guest.status ?? 'none'}, ${guest.boots} boot(s)) without writing ${guestRun.dir}/status`,
      };
    } catch (err) {
      if (timedOut) return { kind: 'timeout' };
      if (request.signal?.aborted) return { kind: 'failed', reason: aborted };
      return { kind: 'failed', reason: (err as Error).message };
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      await tail.stop().catch(() => {});
      await rm(script, { force: true }).catch(() => {});
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      // Shared for the guest, so unshared after: a hunt over many BEs must not leave each one exported.
      if (!wasShared && (await loadState(config.server.stateDir).catch(() => undefined))?.shared.includes(be)) {
        await BeOps.open(config)
          .then((ops) => ops.unshare(be))
          .catch(() => {});
      }
    }
  }
}
