/**
 * Transfer workers: the listener stays on the main thread, opens each accepted request's file there (so
 * every source and check applies), and hands the open FileHandle to the worker with the fewest transfers. Workers load the compiled services/tftp/worker.js from the package's dist/
 * directory (the esbuild bundle does not include it; tsc's output does).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TftpError } from '../../src/tftp/errors.js';
import { packageRoot } from '../config.js';
import type { Logger } from '../log.js';
import type { FileHandle } from 'node:fs/promises';
import type { JobOutcome, RunningJob, TransferJob } from './job.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

export function workerScript(): string {
  return join(packageRoot(), 'dist', 'services', 'tftp', 'worker.js');
}

interface Member {
  worker: Worker;
  jobs: Map<number, (outcome: JobOutcome) => void>;
  /** Bytes acknowledged by each job, as the worker last reported. */
  progress: Map<number, number>;
}

export class WorkerPool {
  private readonly members: Member[] = [];
  private nextId = 1;

  constructor(
    private readonly count: number,
    private readonly init: WorkerInit,
    private readonly log: Logger,
  ) {}

  /** Starts every worker and waits until each is ready; rejects (and stops them) otherwise. */
  async start(): Promise<void> {
    const script = workerScript();
    if (!existsSync(script)) throw new Error(`tftp.workers needs ${script}: build with npm run build, or set tftp.workers to 0`);
    try {
      for (let i = 0; i < this.count; i++) this.members.push(await this.spawn(script));
    } catch (err) {
      await this.terminate();
      throw err;
    }
  }

  private spawn(script: string): Promise<Member> {
    // A young generation of 8 MiB, not V8's default of up to 48: each worker's grew to the full size under
    // 100 clients a round, and two workers took the process from 112 MiB to 220 MiB (180 MiB with this).
    const worker = new Worker(script, { workerData: this.init, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    const member: Member = { worker, jobs: new Map(), progress: new Map() };
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            worker.off('error', reject);
            worker.on('error', (err) => this.lost(member, err));
            resolve(member);
            return;
          case 'log':
            this.log[message.level](message.fields, message.msg);
            return;
          case 'progress':
            for (const [id, bytes] of message.bytes) if (member.jobs.has(id)) member.progress.set(id, bytes);
            return;
          case 'outcome': {
            const settle = member.jobs.get(message.id);
            member.jobs.delete(message.id);
            member.progress.delete(message.id);
            const outcome: JobOutcome =
              message.outcome.kind === 'refused' ? { kind: 'refused', error: new TftpError(message.outcome.code, message.outcome.detail) } : message.outcome;
            settle?.(outcome);
            return;
          }
        }
      });
    });
  }

  /** A worker died (a bug): its transfers are gone; report them as failed and replace the worker. */
  private lost(member: Member, err: Error): void {
    this.log.error({ err: err.message, transfers: member.jobs.size }, 'tftp worker failed; replacing it');
    for (const settle of member.jobs.values()) settle({ kind: 'refused', error: new TftpError('E_TFTP_READ', `worker failed: ${err.message}`) });
    member.jobs.clear();
    member.progress.clear();
    const index = this.members.indexOf(member);
    if (index < 0) return;
    this.spawn(workerScript()).then(
      (fresh) => (this.members[index] = fresh),
      (spawnErr: Error) => this.log.error({ err: spawnErr.message }, 'tftp worker could not be replaced'),
    );
  }

  /** Runs the job in a worker, which takes over `handle` (it is unusable here afterwards) and closes it. */
  run(job: TransferJob, handle: FileHandle, size: number): RunningJob {
    const member = this.members.reduce((best, m) => (m.jobs.size < best.jobs.size ? m : best), this.members[0]!);
    const id = this.nextId++;
    const done = new Promise<JobOutcome>((resolve) => member.jobs.set(id, resolve));
    member.worker.postMessage({ type: 'job', id, job, handle, size } satisfies ToWorker, [handle]);
    return {
      abort: () => member.worker.postMessage({ type: 'abort', id } satisfies ToWorker),
      bytes: () => member.progress.get(id) ?? 0,
      done,
    };
  }

  /** Stops every worker; call after every job has settled. */
  async terminate(): Promise<void> {
    const members = this.members.splice(0);
    await Promise.all(members.map((m) => m.worker.terminate()));
  }
}
