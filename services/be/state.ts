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

/** Read, change, write back atomically. Commands run one at a time, so no lock is taken. */
export async function updateState(stateDir: string, change: (state: BeState) => void): Promise<BeState> {
  const state = await loadState(stateDir);
  change(state);
  await mkdir(stateDir, { recursive: true });
  await writeAtomic(stateFile(stateDir), serializeState(state));
  return state;
}
