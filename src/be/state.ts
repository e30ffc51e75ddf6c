/**
 * What be remembers between commands (server.stateDir/be-state.json): which boot environments are
 * shared over NFS, and how each mounted one was mounted (so `be umount` can undo exactly that).
 */
import type { MountMethod } from './layout.js';

export interface MountRecord {
  dir: string;
  method: MountMethod;
  /** The BE's mountpoint property before a `property` mount changed it. */
  mountpoint: string;
}

export interface BeState {
  version: 1;
  shared: string[];
  mounts: Record<string, MountRecord>;
}

export const emptyState = (): BeState => ({ version: 1, shared: [], mounts: {} });

export function parseState(text: string, file: string): BeState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON: ${(err as Error).message}`);
  }
  const v = value as Partial<BeState> | null;
  if (!v || typeof v !== 'object' || v.version !== 1 || !Array.isArray(v.shared) || typeof v.mounts !== 'object' || v.mounts === null) {
    throw new Error(`${file}: not a be state file (version 1)`);
  }
  return { version: 1, shared: v.shared.filter((s): s is string => typeof s === 'string'), mounts: v.mounts as Record<string, MountRecord> };
}

export function serializeState(state: BeState): string {
  return `${JSON.stringify({ version: 1, shared: [...new Set(state.shared)].sort(), mounts: state.mounts }, null, 2)}\n`;
}
