/**
 * A transfer worker thread: runs the jobs the listener hands it, on sockets of its own, so transfers use
 * more than one core (tftpd-hpa forks a process per client; one event loop alone cannot keep up with it
 * under many clients). Log lines go to the main thread, which owns the logger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runOpened, type RunningJob } from './job.js';
import { DescriptorFile } from './source.js';
import type { TransferLog } from './transfer.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('services/tftp/worker.js runs only as a worker thread');
const init = workerData as WorkerInit;
const post = (message: FromWorker) => port.postMessage(message);

function forwardingLog(bindings: Record<string, unknown>): TransferLog {
  return {
    debug(fields, msg) {
      if (init.minLevel <= 20) post({ type: 'log', level: 'debug', fields: { ...bindings, ...fields }, msg });
    },
    warn(fields, msg) {
      if (init.minLevel <= 40) post({ type: 'log', level: 'warn', fields: { ...bindings, ...fields }, msg });
    },
    child(more) {
      return forwardingLog({ ...bindings, ...more });
    },
  };
}

const context = { address: init.address, limits: init.limits, timing: init.timing, log: forwardingLog({}), datagrams: init.datagrams };
const jobs = new Map<number, RunningJob>();
port.on('message', (message: ToWorker) => {
  if (message.type === 'abort') {
    jobs.get(message.id)?.abort();
    return;
  }
  const running = runOpened(message.job, new DescriptorFile(message.handle, message.size), context);
  jobs.set(message.id, running);
  void running.done.then((outcome) => {
    jobs.delete(message.id);
    post({
      type: 'outcome',
      id: message.id,
      outcome: outcome.kind === 'refused' ? { kind: 'refused', code: outcome.error.code, detail: outcome.error.detail } : outcome,
    });
  });
});
// Progress for the status page: once a second, and only while something runs.
setInterval(() => {
  if (jobs.size > 0) post({ type: 'progress', bytes: [...jobs].map(([id, job]) => [id, job.bytes()]) });
}, 1000).unref();
post({ type: 'ready' });
