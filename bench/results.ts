/**
 * bench/RESULTS.md has one `## Title` section per benchmark; each benchmark rewrites only its own
 * section (atomically), so they can run in any order.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const resultsFile = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));

const header =
  '# Benchmark results\n\nWritten by `npm run bench` (each benchmark rewrites its own section). Ratios compare be with\nthe peer it competes with, measured side by side in the same run on the same machine.\n';

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} x ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function writeSection(title: string, body: string): void {
  const text = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : header;
  const section = `## ${title}\n\n${body.trim()}\n`;
  const pattern = new RegExp(`## ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n[\\s\\S]*?(?=\\n## |$)`);
  const next = pattern.test(text) ? text.replace(pattern, section) : `${text.trimEnd()}\n\n${section}`;
  const temp = `${resultsFile}.tmp`;
  writeFileSync(temp, next);
  renameSync(temp, resultsFile);
}

/** utime + stime of a process in seconds, from /proc/PID/stat (clock ticks of 1/100 s on Linux). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / 100; // fields 14 and 15 of stat(5), counted after "(comm) "
}

/** The fields of /proc/PID/stat after "(comm) ": stat(5)'s field n is index n - 3. */
function statFields(pid: number | 'self'): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
}

/**
 * utime + stime of this process's children that have ended and been waited for (cutime + cstime, fields
 * 16 and 17 of stat(5)): the clients a benchmark ran and awaited, counted exactly, forks and all.
 */
export function endedChildrenCpuSeconds(): number {
  const fields = statFields('self');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/**
 * Seconds the threads of a process spent runnable but waiting for a CPU (the second field of each
 * thread's /proc/PID/task/TID/schedstat, in ns): time the scheduler gave to other processes.
 */
export function runqueueWaitSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e9;
}

/** Idle seconds of all CPUs together since boot (idle + iowait of /proc/stat's cpu line, in 1/100 s). */
export function idleCpuSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  return (Number(fields[4]) + Number(fields[5])) / 100;
}

/** A share (0.42) as a percentage for a report ("42 %"); a share that could not be measured (NaN) says so. */
export function percent(share: number): string {
  return Number.isFinite(share) ? `${Math.round(share * 100)} %` : 'unmeasured';
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * CPU time of a process and every process it starts from now on, forks included, through a cgroup v1
 * cpuacct group of its own (tftpd-hpa forks one process per transfer and lets the kernel reap them,
 * so their time never reaches its own /proc counters). Without cgroup v1 cpuacct: the process's own
 * counters, and `exact` says so.
 */
export class CpuMeter {
  private readonly group: string | undefined;

  constructor(
    name: string,
    private readonly pid: number,
  ) {
    const root = '/sys/fs/cgroup/cpuacct';
    if (!existsSync(join(root, 'cpuacct.usage'))) return;
    const group = join(root, `${name}-${pid}`);
    try {
      mkdirSync(group);
    } catch {
      return; // not permitted here: the process's own counters
    }
    try {
      writeFileSync(join(group, 'cgroup.procs'), String(pid));
      this.group = group;
    } catch {
      rmdirSync(group); // the process is gone or may not move: the process's own counters
    }
  }

  get exact(): boolean {
    return this.group !== undefined;
  }

  seconds(): number {
    if (!this.group) return cpuSeconds(this.pid);
    return Number(readFileSync(join(this.group, 'cpuacct.usage'), 'utf8')) / 1e9;
  }

  /** Moves what is left of the group back to the root group and removes it. */
  close(): void {
    if (!this.group) return;
    const root = dirname(this.group);
    for (const pid of readFileSync(join(this.group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        writeFileSync(join(root, 'cgroup.procs'), pid);
      } catch {
        // exited meanwhile
      }
    }
    rmdirSync(this.group);
  }
}
