/**
 * What every command shares: the global -c/--set options and argument parsers. This module and each
 * command's register() stay light (commander only): a command's action imports what it needs, so
 * `be wol` does not pay for loading the servers (see bench/wol.ts).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { LoadedConfig } from '../services/config.js';
import { BeError } from '../src/errors.js';

export interface GlobalOptions {
  config?: string;
  set: string[];
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Commander parser for an integer option within bounds; the message names the bounds. */
export function integer(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return value;
  };
}

/**
 * Load the configuration the global options name (-c FILE, --set key=value ...), with the host
 * assignments `be bootpxe` keeps in the state file applied on top.
 */
export async function configFrom(command: Command): Promise<LoadedConfig> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const [{ parseOverride }, { loadConfig }, { loadState }, { applyAssignments }] = await Promise.all([
    import('../src/config/parse.js'),
    import('../services/config.js'),
    import('../services/be/state.js'),
    import('../src/boot/assignments.js'),
  ]);
  const loaded = loadConfig({ ...(options.config !== undefined ? { file: options.config } : {}), overrides: options.set.map(parseOverride) });
  const state = await loadState(loaded.config.server.stateDir).catch((err: Error) => {
    // A state directory this user may not read (be config check as non-root) has nothing to add.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return undefined;
    throw err;
  });
  return state ? { ...loaded, config: applyAssignments(loaded.config, state.assignments) } : loaded;
}

/** The version in package.json (the package root holds it whether run from dist/ or dist/bin/). */
export function packageVersion(): string {
  for (const relative of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'be' && pkg.version) return pkg.version;
    } catch {
      // not at this depth
    }
  }
  return 'unknown';
}

/** What a command that changed the exports says: one stdout line, and a warning when no NFS server runs yet. */
export function exportsLine(file: string, outcome: { written: boolean; reloaded: boolean; notRunning?: string | undefined }): string {
  if (outcome.notRunning) process.stderr.write(`be: warning: ${outcome.notRunning}\n`);
  return `${file} ${!outcome.written ? 'unchanged' : outcome.reloaded ? 'rewritten, NFS server reloaded' : 'rewritten'}`;
}

/**
 * SIGINT and SIGTERM abort the work with a BeError whose exit status is 128 + the signal's number, as
 * a shell reports a command a signal ended. `on`, not `once`: execa's signal-exit re-raises a signal
 * when no other listener is left, and once removes ours before it runs (an install died of SIGINT
 * with tar's files left in the BE).
 */
export function interruptible(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => controller.abort(new BeError('E_EXEC', `interrupted by ${signal}`, signal === 'SIGINT' ? 130 : 143));
  process.on('SIGINT', stop).on('SIGTERM', stop);
  return { signal: controller.signal, release: () => process.off('SIGINT', stop).off('SIGTERM', stop) };
}
