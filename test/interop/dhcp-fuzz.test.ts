/**
 * Robustness on the wire: 100,000 fuzzed datagrams to port 67 (test/interop/dhcp/fuzz.mjs, seeded)
 * while busybox udhcpc keeps asking for leases. The server must never stop, every udhcpc run must
 * get its lease, and one more must succeed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { makeClient, recorderScript, records, startBe, type RunningBe } from './dhcp/lan.js';

const peers = needPeers('dhcp fuzz', ['ip', 'udhcpc'], { root: true });
const fuzzer = fileURLToPath(new URL('./dhcp/fuzz.mjs', import.meta.url));
const clientMac = '52:54:00:be:05:01';
const seed = Number(process.env.BE_FUZZ_SEED ?? 20261127);

describe.skipIf(peers.skip)('dhcp fuzz on the wire', () => {
  let lan: Lan;
  let dir: string;
  let be: RunningBe;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'be-dhcp-fuzz-'));
    lan = Lan.create({ hosts: ['server', 'fuzzer', 'client'], subnet: '10.99.0' });
    makeClient(lan, 'client', clientMac);
    // The client has a reservation: fuzzed DISCOVERs exhaust the pool (on purpose), the reservation stays its own.
    be = await startBe(
      lan,
      'server',
      dir,
      `server: { address: 10.99.0.1 }
tftp: { enabled: false }
log: { level: info }
dhcp:
  mode: authoritative
  interface: eth0
  range: { start: 10.99.0.100, end: 10.99.0.199 }
  router: 10.99.0.1
  leaseTime: 600
  leaseFile: ${join(dir, 'dhcp.leases')}
hosts:
  - name: client
    mac: ${clientMac}
    ip: 10.99.0.50
`,
    );
  });

  afterAll(() => {
    lan?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`survives 100,000 fuzzed datagrams (seed ${seed}) while udhcpc keeps getting leases`, { timeout: 180_000 }, async () => {
    const script = recorderScript(dir, 'udhcpc.sh', 'echo "event reason=$1 ip=$ip" >> "$0.out"');
    const fuzz = lan.spawn('fuzzer', ['node', fuzzer, '10.99.0.1', '100000', String(seed)]);
    let fuzzing = true;
    void fuzz.finally(() => (fuzzing = false));
    let runs = 0;
    let duringFuzz = 0;
    while (fuzzing || runs === 0) {
      const result = await lan.run('client', ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '10', '-T', '1']);
      expect(result.exitCode, `udhcpc run ${runs + 1}: ${String(result.stderr)}`).toBe(0);
      runs++;
      if (fuzzing) duringFuzz++;
    }
    const fuzzResult = await fuzz;
    expect(JSON.parse(String(fuzzResult.stdout))).toEqual({ sent: 100_000 });
    expect(duringFuzz).toBeGreaterThanOrEqual(1);
    console.log(`dhcp fuzz: ${runs} udhcpc leases, ${duringFuzz} of them during the fuzzing`);
    // still serving afterwards
    const after = await lan.run('client', ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '5', '-T', '1']);
    expect(after.exitCode).toBe(0);
    const bound = records(`${script}.out`).filter((r) => r.reason === 'bound');
    expect(bound).toHaveLength(runs + 1);
    expect(new Set(bound.map((b) => b.ip))).toEqual(new Set(['10.99.0.50']));
    expect(be.child.exitCode).toBeNull(); // still running
    expect(be.out.lines.filter((l) => /"level":(50|60)/.test(l))).toEqual([]); // no error or fatal lines
    // fuzzed DISCOVERs that still decode reached the allocator and used up the pool: the deep paths ran
    expect(be.out.lines.filter((l) => l.includes('address pool exhausted')).length).toBeGreaterThanOrEqual(1);
  });
});
