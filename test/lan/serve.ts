/**
 * `be serve` (the shipped dist/bin/be.mjs) in a test host's namespace, started the one way every suite
 * starts it: tracked by the LAN (Lan.close() ends it by its PID even when a test fails), and resolved
 * only once it has logged the lines the test waits for.
 */
import { writeFileSync } from 'node:fs';
import type { Result, ResultPromise } from 'execa';
import { beMain } from '../cli/be.js';
import { datagramSettings } from './datagrams.js';
import { LineWatcher } from './lines.js';
import type { Lan } from './netns.js';

export interface ServeOptions {
  /** The configuration file (`-c`), first written with `yaml` when given. Left out, be serve runs on the embedded default. */
  config?: { file: string; yaml?: string };
  /** Global options before `serve`, such as `--set key=value` pairs. */
  settings?: readonly string[];
  /** `--only` these services (comma-separated, as the command line takes them). */
  only?: string;
  /** Arguments after `serve` (and after `--only`). */
  args?: readonly string[];
  /** Log lines on stdout to wait for, each seen before or after the others. Default: "appliance running". */
  ready?: readonly RegExp[];
  /** The bound on waiting for each of them. Default 60 s. */
  timeoutMs?: number;
}

export interface RunningBe {
  child: ResultPromise;
  /** be's JSON log lines. */
  out: LineWatcher;
  err: LineWatcher;
  /** The configuration file it was started with, if any (for be commands that talk to it). */
  config: string | undefined;
  /** SIGTERM by its PID, then its result once it has exited. */
  stop(): Promise<Result>;
}

/** Starts `be serve` in the host's namespace (or a namespace of the LAN, by name) and resolves once every `ready` line has been logged. */
export async function serveBe(lan: Lan, host: string, options: ServeOptions = {}): Promise<RunningBe> {
  const { settings = [], only, args = [], ready = [/"msg":"appliance running/], timeoutMs = 60_000 } = options;
  const config = options.config?.file;
  if (config && options.config?.yaml !== undefined) writeFileSync(config, options.config.yaml);
  const ns = lan.hosts.find((h) => h.name === host)?.ns ?? host;
  const child = lan.spawnIn(ns, [
    ...['node', beMain, ...(config ? ['-c', config] : []), ...datagramSettings(), ...settings],
    ...['serve', ...(only ? ['--only', only] : []), ...args],
  ]);
  const out = new LineWatcher(child.stdout);
  const err = new LineWatcher(child.stderr);
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null) child.kill('SIGTERM');
    return child;
  };
  // An exit before the lines came ends the wait at once, instead of at the bound.
  const exited = child.then((r) => Promise.reject(new Error(`exited with ${r.signal ?? r.exitCode}`)));
  exited.catch(() => {});
  try {
    for (const pattern of ready) await Promise.race([out.next(pattern, timeoutMs), exited]);
  } catch (e) {
    child.kill('SIGKILL');
    await child;
    throw new Error(`be serve did not start: ${err.lines.join('\n')} ${(e as Error).message}`);
  }
  return { child, out, err, config, stop };
}
