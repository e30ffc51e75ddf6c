import { describe, expect, it } from 'vitest';
import { inventoryFromZfs, type BootEnvironment } from '../../../src/be/inventory.js';
import { createSteps, destroySteps, freebsdLayout, mountPlan, umountPlan } from '../../../src/be/layout.js';
import { emptyState, parseState, serializeState } from '../../../src/be/state.js';

const argv = (steps: { file: string; args: string[] }[]) => steps.map((s) => [s.file, ...s.args].join(' '));

function unmountedHead(): BootEnvironment {
  const rows = [{ name: 'zroot/ROOT/head', mountpoint: '/', canmount: 'noauto' as const, mounted: false }];
  for (const c of ['usr', 'usr/home', 'var', 'var/log']) rows.push({ name: `zroot/ROOT/head/${c}`, mountpoint: `/${c}`, canmount: 'noauto', mounted: false });
  rows.push({ name: 'zroot/ROOT/head/off', mountpoint: '/off', canmount: 'off' as never, mounted: false });
  return inventoryFromZfs('zroot/ROOT', rows, new Map())[0]!;
}

describe('be create plans', () => {
  it("freebsd: the talk's nested layout, every dataset canmount=noauto, the BE at /", () => {
    const steps = argv(createSteps('zroot/ROOT', 'head', 'freebsd'));
    expect(steps[0]).toBe('zfs create -o mountpoint=/ -o canmount=noauto zroot/ROOT/head');
    expect(steps.slice(1)).toEqual(freebsdLayout.map((c) => `zfs create -o canmount=noauto zroot/ROOT/head/${c}`));
    expect(steps).toHaveLength(12);
  });

  it('flat: one dataset', () => {
    expect(argv(createSteps('bd/be', 'files', 'flat'))).toEqual(['zfs create -o mountpoint=/ -o canmount=noauto bd/be/files']);
  });
});

describe('be mount / umount plans', () => {
  const head = unmountedHead();

  it('mount: mount -t zfs each dataset under DIR, parents first, skipping canmount=off', () => {
    const plan = mountPlan(head, '/ROOT/head', 'mount');
    expect(argv(plan.steps)).toEqual([
      'mount -t zfs zroot/ROOT/head /ROOT/head',
      'mount -t zfs zroot/ROOT/head/usr /ROOT/head/usr',
      'mount -t zfs zroot/ROOT/head/usr/home /ROOT/head/usr/home',
      'mount -t zfs zroot/ROOT/head/var /ROOT/head/var',
      'mount -t zfs zroot/ROOT/head/var/log /ROOT/head/var/log',
    ]);
    // Each mount point is created just before its mount, once the parent is mounted.
    expect(plan.steps.map((st) => st.mkdir)).toEqual(['/ROOT/head', '/ROOT/head/usr', '/ROOT/head/usr/home', '/ROOT/head/var', '/ROOT/head/var/log']);
  });

  it('property: move the BE mountpoint to DIR, then zfs mount in order', () => {
    expect(argv(mountPlan(head, '/ROOT/head', 'property').steps)).toEqual([
      'zfs set mountpoint=/ROOT/head zroot/ROOT/head',
      'zfs mount zroot/ROOT/head',
      'zfs mount zroot/ROOT/head/usr',
      'zfs mount zroot/ROOT/head/usr/home',
      'zfs mount zroot/ROOT/head/var',
      'zfs mount zroot/ROOT/head/var/log',
    ]);
  });

  it('umount: children first; property restores the mountpoint it recorded', () => {
    const mounted: BootEnvironment = {
      ...head,
      datasets: head.datasets.map((d, i) => ({
        ...d,
        mountpoint: i === 0 ? '/ROOT/head' : d.mountpoint,
        path: d.canmount === 'off' ? null : `/ROOT/head${d.guestPath === '/' ? '' : d.guestPath}`,
      })),
    };
    expect(argv(umountPlan(mounted, 'mount'))).toEqual([
      'umount /ROOT/head/var/log',
      'umount /ROOT/head/var',
      'umount /ROOT/head/usr/home',
      'umount /ROOT/head/usr',
      'umount /ROOT/head',
    ]);
    expect(argv(umountPlan(mounted, 'property', '/'))).toEqual([
      'zfs umount zroot/ROOT/head/var/log',
      'zfs umount zroot/ROOT/head/var',
      'zfs umount zroot/ROOT/head/usr/home',
      'zfs umount zroot/ROOT/head/usr',
      'zfs umount zroot/ROOT/head',
      'zfs set mountpoint=/ zroot/ROOT/head',
    ]);
    // Nothing left to mount once everything is mounted.
    expect(mountPlan(mounted, '/ROOT/head', 'mount').steps).toEqual([]);
  });

  it('destroy: recursive on the BE only', () => {
    expect(argv(destroySteps(head))).toEqual(['zfs destroy -r zroot/ROOT/head']);
  });
});

describe('state file', () => {
  it('round-trips and refuses what is not one', () => {
    const state = { ...emptyState(), shared: ['b', 'a', 'a'], mounts: { a: { dir: '/ROOT/a', method: 'property' as const, mountpoint: '/' } } };
    const text = serializeState(state);
    expect(parseState(text, 'f')).toEqual({ version: 1, shared: ['a', 'b'], mounts: state.mounts, pxe: [], assignments: {}, installed: {} });
    // pxe and assignments round-trip; files from before they existed still read.
    const pxe = { ...state, pxe: ['head', 'head'], assignments: { lab1: 'head' } };
    expect(parseState(serializeState(pxe), 'f')).toMatchObject({ pxe: ['head'], assignments: { lab1: 'head' } });
    expect(parseState('{"version":1,"shared":["a"],"mounts":{}}', 'f')).toEqual({
      version: 1,
      shared: ['a'],
      mounts: {},
      pxe: [],
      assignments: {},
      installed: {},
    });
    // be install's records round-trip; a malformed one is dropped, not trusted.
    const installed = { ...state, installed: { a: { release: '14.1-RELEASE', arch: 'amd64', sets: ['base', 'kernel'], at: '2026-01-01T00:00:00.000Z' } } };
    expect(parseState(serializeState(installed), 'f').installed).toEqual(installed.installed);
    expect(parseState('{"version":1,"shared":[],"mounts":{},"installed":{"x":{"release":14}}}', 'f').installed).toEqual({});
    expect(() => parseState('{', 'f')).toThrow(/^f: not JSON/);
    expect(() => parseState('{"version":2}', 'f')).toThrow(/not a be state file/);
  });
});
