/**
 * What be remembers between commands (server.stateDir/be-state.json): which boot environments are
 * shared over NFS, and how each mounted one was mounted (so `be umount` can undo exactly that); which
 * are PXE-bootable (`be sharepxe`: their boot/ is served over TFTP) and which host boots which BE
 * (`be bootpxe`: it overrides hosts[].be).
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
  pxe: string[];
  /** Host name → boot environment. */
  assignments: Record<string, string>;
  /** Boot environment → the release `be install` put into it. */
  installed: Record<string, InstalledRelease>;
}

export interface InstalledRelease {
  release: string;
  arch: string;
  sets: string[];
  /** ISO time of the install. */
  at: string;
}

export const emptyState = (): BeState => ({ version: 1, shared: [], mounts: {}, pxe: [], assignments: {}, installed: {} });

function installedRecords(value: unknown): Record<string, InstalledRelease> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, Partial<InstalledRelease>>).filter(
      (e): e is [string, InstalledRelease] =>
        typeof e[1]?.release === 'string' && typeof e[1].arch === 'string' && Array.isArray(e[1].sets) && typeof e[1].at === 'string',
    ),
  );
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : []);

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
  const assignments = typeof v.assignments === 'object' && v.assignments !== null ? v.assignments : {};
  return {
    version: 1,
    shared: strings(v.shared),
    mounts: v.mounts as Record<string, MountRecord>,
    // Files written before `be sharepxe` existed have neither key.
    pxe: strings(v.pxe),
    assignments: Object.fromEntries(Object.entries(assignments).filter((e): e is [string, string] => typeof e[1] === 'string')),
    // Files written before `be install` existed have none.
    installed: installedRecords((v as { installed?: unknown }).installed),
  };
}

export function serializeState(state: BeState): string {
  const sorted = (list: string[]) => [...new Set(list)].sort();
  return `${JSON.stringify({ version: 1, shared: sorted(state.shared), mounts: state.mounts, pxe: sorted(state.pxe), assignments: state.assignments, installed: state.installed }, null, 2)}\n`;
}
