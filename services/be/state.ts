/** The state file under server.stateDir: which BEs are shared, how mounted ones were mounted. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { emptyState, parseState, serializeState, type BeState } from '../../src/be/state.js';
import { BeError } from '../../src/errors.js';
import { readIfExists, writeAtomic } from '../atomic.js';

export const stateFileName = 'be-state.json';

export function stateFile(stateDir: string): string {
  return join(stateDir, stateFileName);
}

export async function loadState(stateDir: string): Promise<BeState> {
  const file = stateFile(stateDir);
  const text = await readIfExists(file);
  if (text === undefined) return emptyState();
  try {
    return parseState(text, file);
  } catch (err) {
    throw new BeError('E_CONFIG', `${(err as Error).message}: move it away to start afresh`);
  }
}

/** The update in progress per state directory, so updates within one process run one after another. */
const pending = new Map<string, Promise<unknown>>();

/**
 * Read, change, write back atomically. Updates in one process are serialized (`be hunt --jobs 2`
 * installs and mounts two BEs at once, and two interleaved read-change-writes would lose one change);
 * separate commands run one at a time, so no lock file is taken.
 */
export async function updateState(stateDir: string, change: (state: BeState) => void): Promise<BeState> {
  const previous = pending.get(stateDir) ?? Promise.resolve();
  const update = previous
    .catch(() => {})
    .then(async () => {
      const state = await loadState(stateDir);
      change(state);
      await mkdir(stateDir, { recursive: true });
      await writeAtomic(stateFile(stateDir), serializeState(state));
      return state;
    });
  pending.set(stateDir, update);
  try {
    return await update;
  } finally {
    if (pending.get(stateDir) === update) pending.delete(stateDir);
  }
}
