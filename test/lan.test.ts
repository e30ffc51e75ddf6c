/** The test LAN helpers themselves: teardown, orphan cleanup, and the skip-or-fail rule for peers. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteOrphanNamespaces, Lan } from './lan/netns.js';
import { needPeers } from './lan/peers.js';

const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
const root = needPeers('test LAN helpers', ['ip', 'ping'], { root: true });

describe.skipIf(root.skip)('test LAN', () => {
  it('joins hosts on a bridge with a broadcast route, and close() removes namespaces and processes', async () => {
    const lan = Lan.create({ hosts: ['a', 'b'], subnet: '10.96.0' });
    const sleeper = lan.spawn('a', ['sleep', '600']);
    try {
      expect(lan.host('b').ip).toBe('10.96.0.2');
      const ping = await lan.run('a', ['ping', '-c', '1', '-W', '2', '10.96.0.2']);
      expect(ping.exitCode).toBe(0);
      expect((await lan.run('b', ['ip', 'route'])).stdout).toContain('255.255.255.255 dev eth0');
      expect(namespaces()).toContain(lan.host('a').ns);
    } finally {
      lan.close();
    }
    const ended = await sleeper;
    expect(ended.signal).toBe('SIGKILL');
    for (const ns of [lan.host('a').ns, lan.host('b').ns, lan.switchNs]) expect(namespaces()).not.toContain(ns);
  });

  it('removes namespaces left by a test process that no longer exists', () => {
    // A pid far above pid_max cannot be alive.
    const orphan = 'be999999999-1-orphan';
    execFileSync('ip', ['netns', 'add', orphan]);
    expect(deleteOrphanNamespaces()).toContain(orphan);
    expect(namespaces()).not.toContain(orphan);
  });
});

describe('peers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'be-peers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are found on PATH', () => {
    expect(needPeers('present', ['sh'], { ci: true })).toEqual({ skip: false, missing: [] });
  });

  it('when missing, skip with a logged line on a developer machine', () => {
    const skipLog = join(dir, 'skips.log');
    expect(needPeers('peer rule', ['be-no-such-peer'], { ci: false, skipLog })).toEqual({ skip: true, missing: ['be-no-such-peer'] });
    expect(readFileSync(skipLog, 'utf8')).toBe('peer rule: missing be-no-such-peer\n');
  });

  it('when missing, fail under CI', () => {
    expect(() => needPeers('peer rule', ['be-no-such-peer'], { ci: true })).toThrow(
      'CI=true and a peer is missing, so this is a failure, not a skip: peer rule: missing be-no-such-peer (install: npm run peers)',
    );
  });
});
