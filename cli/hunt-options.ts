/**
 * What `be hunt` and `be bisect` share: the options naming the releases, the mirror, the runner and
 * the test, read into HuntSettings; and the progress lines both print while releases are tested.
 */
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import type { Config } from '../src/config/schema.js';
import { BeError } from '../src/errors.js';
import type { ReleaseResult } from '../src/hunt/types.js';
import type { Release } from '../src/install/release.js';
import type { HuntEvent, HuntSettings, HuntTest } from '../services/hunt/hunt.js';
import { integer } from './common.js';
import { mirrorRoot } from './install.js';

export interface HuntOptions {
  releases?: string;
  mirror?: string;
  os?: string;
  arch: string;
  branch: 'release' | 'snapshot';
  sets?: string;
  runner?: string;
  timeout: number;
  probe?: string;
  json?: boolean;
}

export const defaultTimeoutSeconds = 600;

/** The options of both commands, on `command`. */
export function huntOptions(command: Command): Command {
  return command
    .option('--releases <file|list>', 'a file with one release a line, or R1,R2,... (default for bisect: what the mirror offers)')
    .option('-p, --mirror <root>', 'mirror root to install missing releases from (default install.mirror)')
    .option('-o, --os <name>', 'appended to the mirror root, as for be install')
    .option('-a, --arch <arch>', 'amd64, i386, arm64', 'amd64')
    .addOption(new Option('-b, --branch <branch>', 'release, or snapshot').choices(['release', 'snapshot']).default('release'))
    .option('--sets <list>', 'sets to install into a missing BE (default base,kernel)')
    .addOption(new Option('--runner <runner>', 'where the test runs (default: jail on FreeBSD, chroot elsewhere)').choices(['jail', 'chroot', 'bhyve']))
    .option('--timeout <seconds>', 'per release; a test still running then is an error, not bad', integer(1, 86_400), defaultTimeoutSeconds)
    .option('--probe <name>', 'a built-in test instead of a command: manratio, kyua')
    .option('--json', 'print the results as JSON');
}

/** Releases from --releases: a file when one by that name exists, else a comma-separated list. */
export async function releasesFrom(text: string, branch: 'release' | 'snapshot'): Promise<Release[]> {
  const { parseReleaseList } = await import('../src/hunt/releases.js');
  const fileText = await readFile(text, 'utf8').catch((err: NodeJS.ErrnoException) => {
    // Not a file, and shaped like a list of releases (12.4,13.0-RELEASE): a list.
    if (err.code === 'ENOENT' && /^[0-9][0-9A-Za-z.,\s-]*$/.test(text)) return undefined;
    throw new BeError('E_USAGE', `--releases ${text}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  try {
    return parseReleaseList(fileText ?? text, branch, fileText === undefined ? '--releases' : text);
  } catch (err) {
    throw new BeError('E_USAGE', (err as Error).message);
  }
}

/** The settings of a hunt from the options and the command after `--`. */
export async function settingsFrom(config: Config, options: HuntOptions, command: readonly string[], signal: AbortSignal): Promise<HuntSettings> {
  const [{ parseArchitecture, ReleaseError }, { runnerNamed }, { probeNamed }] = await Promise.all([
    import('../src/install/release.js'),
    import('../services/hunt/runners.js'),
    import('../services/hunt/probes.js'),
  ]);
  if (options.probe !== undefined && command.length > 0) throw new BeError('E_USAGE', '--probe and a command after -- are one or the other');
  if (options.probe === undefined && command.length === 0) throw new BeError('E_USAGE', 'name the test: --probe NAME, or -- COMMAND...');
  let arch: ReturnType<typeof parseArchitecture>;
  try {
    arch = parseArchitecture(options.arch);
  } catch (err) {
    if (err instanceof ReleaseError) throw new BeError('E_USAGE', err.message);
    throw err;
  }
  const test: HuntTest = options.probe !== undefined ? { probe: probeNamed(options.probe) } : { command: [...command] };
  return {
    config,
    arch,
    mirror: mirrorRoot(options.mirror ?? config.install.mirror, options.os),
    archive: options.mirror === undefined ? config.install.archive : null,
    sets: options.sets?.split(','),
    runner: runnerNamed(options.runner as Parameters<typeof runnerNamed>[0]),
    test,
    timeoutMs: options.timeout * 1000,
    signal,
  };
}

/** One stderr line per release installed and per result (a bar would hide which release is slow). */
export function progressLines(stream: NodeJS.WriteStream): (event: HuntEvent) => void {
  return (event) => {
    if (event.kind === 'install') stream.write(`be: ${event.release}: installing into ${event.be}\n`);
    if (event.kind === 'done') stream.write(`be: ${event.result.release}: ${describe(event.result)}${event.reused ? ' (kept from before)' : ''}\n`);
  };
}

export function describe(result: ReleaseResult): string {
  const status = result.exitCode === null ? '' : ` (exit ${result.exitCode})`;
  return `${result.verdict}${status} in ${result.seconds.toFixed(1)} s${result.detail ? `: ${result.detail}` : ''}`;
}
