/**
 * The boot snapshot DHCP and TFTP share: a new configuration takes effect together with the
 * catalogue read for it, or not at all; a reload that cannot read the inventory keeps the previous
 * assignment whole, and a refresh applies the new one once the inventory can be read.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { BootCatalogue, BootKeeper, type BootSnapshot } from '../../../services/boot/catalogue.js';
import { LogCapture } from '../dhcp/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'be-keeper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'envs', 'a'), { recursive: true });
mkdirSync(join(dir, 'envs', 'b'), { recursive: true });

const assigned = (be: string): Config =>
  configSchema.parse({
    be: { backend: 'dir', root: join(dir, 'envs') },
    server: { stateDir: join(dir, 'state') },
    hosts: [{ name: 'lab1', mac: '02:00:00:00:0a:01', be }],
  });
const beOf = (snapshot: BootSnapshot) => snapshot.config.hosts[0]?.be;

describe('BootKeeper', () => {
  it('a reload whose inventory cannot be read keeps the previous assignment and catalogue, then applies the new one when it can', async () => {
    let broken = false;
    const capture = new LogCapture('info');
    const keeper = new BootKeeper(assigned('a'), {
      log: capture.log,
      load: async (config) => {
        if (broken) throw new Error('zfs list: dataset is busy');
        return BootCatalogue.load(config);
      },
    });
    const seen: (string | undefined)[] = [];
    keeper.onChange((s) => seen.push(beOf(s)));
    await keeper.start();
    const first = keeper.current;
    expect(beOf(first)).toBe('a');
    expect(first.catalogue?.rootOf('a')).toBe(join(dir, 'envs', 'a'));

    broken = true;
    await keeper.update(assigned('b'));
    expect(keeper.current).toBe(first);
    expect(keeper.stale).toBe(true);
    await keeper.refresh();
    expect(keeper.current).toBe(first);
    // Said once per failing streak, not on every refresh.
    expect(capture.messages().filter((m) => m.startsWith('boot environments unavailable'))).toEqual([
      'boot environments unavailable: hosts keep their previous boot environments until they can be read',
    ]);

    broken = false;
    await keeper.refresh();
    expect(beOf(keeper.current)).toBe('b');
    expect(keeper.current.catalogue).toBeDefined();
    expect(keeper.stale).toBe(false);
    expect(seen).toEqual(['a', 'b']);
    keeper.close();
  });

  it('with no catalogue ever read, a new configuration applies at once (root-paths from the configuration)', async () => {
    const keeper = new BootKeeper(assigned('a'), { log: new LogCapture().log, load: async () => Promise.reject(new Error('no zfs')) });
    await keeper.start();
    expect(keeper.current.catalogue).toBeUndefined();
    await keeper.update(assigned('b'));
    expect(beOf(keeper.current)).toBe('b');
    expect(keeper.stale).toBe(false);
    keeper.close();
  });

  it('an update that arrives while a read is in flight is the one that ends up applied', async () => {
    const releases: (() => void)[] = [];
    const keeper = new BootKeeper(assigned('a'), {
      log: new LogCapture().log,
      load: async (config) => {
        await new Promise<void>((resolve) => releases.push(resolve));
        return BootCatalogue.load(config);
      },
    });
    const started = keeper.start();
    await Promise.resolve();
    const updated = keeper.update(assigned('b'));
    // Let every read finish, however many the keeper makes.
    while (keeper.current.catalogue === undefined || keeper.stale) {
      releases.shift()?.();
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all([started, updated]);
    expect(beOf(keeper.current)).toBe('b');
    keeper.close();
  });
});
