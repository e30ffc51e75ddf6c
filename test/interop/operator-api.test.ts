/**
 * The operator's window of `be serve` from outside: the JSON API, its event stream, the two actions
 * and the Prometheus metrics, with real clients in network namespaces. curl speaks to the API (from the
 * server's own loopback, which http.allow admits by default) and follows /api/events; udhcpc and busybox
 * tftp play a booting host, curl fetches its kernel over HTTP; tcpdump sees the magic packet of a wake;
 * Prometheus' own promtool checks the exposition.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beMain } from '../cli/be.js';
import { startCapture } from '../lan/capture.js';
import { LineWatcher } from '../lan/lines.js';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { serveBe, type RunningBe } from '../lan/serve.js';
import { makeClient, recorderScript, records } from './dhcp/lan.js';

const peers = needPeers('the JSON API, event stream and metrics', ['ip', 'udhcpc', 'busybox', 'curl', 'tcpdump', 'promtool'], { root: true });
const mac = '52:54:00:be:15:01';
const token = 'open-sesame-1234';
const kernel = Buffer.alloc(300_000, 'k');

interface Answer {
  status: number;
  body: unknown;
}

/** A sample of the exposition: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) out.set(match[1]!, Number(match[2]));
  }
  return out;
}

describe.skipIf(peers.skip)('be serve: the JSON API, its events, its actions and /metrics', () => {
  const dir = join(tmpdir(), `be-operator-${process.pid}`);
  const envs = join(dir, 'envs');
  const stateFile = join(dir, 'state', 'be-state.json');
  let lan: Lan;
  let serve: RunningBe | undefined;
  let events: LineWatcher;

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    lan = Lan.create({ hosts: ['server', 'pc'], subnet: '10.96.0' });
    for (const be of ['head', 'other']) {
      mkdirSync(join(envs, be, 'boot', 'kernel'), { recursive: true });
      writeFileSync(join(envs, be, 'boot', 'pxeboot'), `PXEBOOT of ${be}`);
      writeFileSync(join(envs, be, 'boot', 'kernel', 'kernel'), kernel);
    }
    const flags = [
      ...['--set', 'be.backend=dir', '--set', `be.root=${envs}`, '--set', `server.stateDir=${join(dir, 'state')}`],
      ...['--set', 'server.address=10.96.0.1', '--set', 'nfs.network=10.96.0.0/24', '--set', `nfs.exportsFile=${join(dir, 'exports')}`],
      ...['--set', 'nfs.reload=["true"]', '--set', 'dhcp.mode=authoritative', '--set', 'dhcp.range={start: 10.96.0.100, end: 10.96.0.149}'],
      ...['--set', `dhcp.leaseFile=${join(dir, 'leases')}`, '--set', `tftp.root=${join(dir, 'state', 'tftp')}`],
      ...['--set', 'http.enabled=true', '--set', `http.token=${token}`, '--set', 'wol.broadcast=10.96.0.255'],
      ...['--set', 'hosts.0.name=pc', '--set', `hosts.0.mac=${mac}`, '--set', 'hosts.0.ip=10.96.0.50', '--set', 'hosts.0.be=head'],
    ];
    makeClient(lan, 'pc', mac);
    // head is PXE-bootable before be serve starts, as be sharepxe leaves it; other is not yet.
    const share = await lan.run('server', ['node', beMain, ...flags, 'sharepxe', 'head']);
    expect(share.exitCode, String(share.stderr)).toBe(0);
    serve = await serveBe(lan, 'server', { settings: flags });
    const stream = lan.spawnIn(lan.host('server').ns, ['curl', '-sSN', 'http://127.0.0.1:8080/api/events']);
    events = new LineWatcher(stream.stdout!);
    await events.next(/^event: hello$/);
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
    lan?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An API request from the server's loopback, with curl. */
  async function api(method: string, path: string, options: { token?: string; body?: string } = {}): Promise<Answer> {
    const args = ['curl', '-sS', '-m', '20', '-X', method, '-w', '\n%{http_code}', `http://127.0.0.1:8080${path}`];
    if (options.token !== undefined) args.push('-H', `Authorization: Bearer ${options.token}`);
    if (options.body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', options.body);
    const result = await lan.run('server', args);
    const text = String(result.stdout);
    const newline = text.lastIndexOf('\n');
    const body = text.slice(0, newline);
    return { status: Number(text.slice(newline + 1)), body: body === '' ? undefined : JSON.parse(body) };
  }

  /** Lines of the event stream already read by nextEvent. */
  let cursor = 0;
  /** The next event of a kind on the stream (read on from the last one taken), parsed. */
  async function nextEvent(kind: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = events.lines;
      for (; cursor < lines.length - 1; cursor++) {
        if (lines[cursor] === `event: ${kind}` && lines[cursor + 1]!.startsWith('data: ')) {
          cursor += 2;
          return JSON.parse(lines[cursor - 1]!.slice('data: '.length));
        }
      }
      if (Date.now() > deadline) throw new Error(`no ${kind} event within ${timeoutMs} ms; the stream said:\n${lines.slice(-20).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The exposition byte for byte (a file: execa's stdout would lose the final newline promtool checks for). */
  const metrics = async () => {
    const file = join(dir, 'metrics.txt');
    const result = await lan.run('server', ['curl', '-sS', '-m', '20', '-o', file, 'http://127.0.0.1:8080/metrics']);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    return readFileSync(file, 'utf8');
  };

  it('answers every read as JSON', async () => {
    const status = await api('GET', '/api/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ services: ['tftp', 'http', 'dhcp', 'exports', 'control'] });
    const hosts = await api('GET', '/api/hosts');
    expect(hosts.body).toEqual([{ name: 'pc', mac, ip: '10.96.0.50', be: 'head', boot: 'pxe', lease: null, lastBoot: null }]);
    const envList = (await api('GET', '/api/envs')).body as { name: string; pxe: boolean; shared: boolean }[];
    expect(envList.map((e) => [e.name, e.pxe, e.shared])).toEqual([
      ['head', true, true],
      ['other', false, false],
    ]);
    expect((await api('GET', '/api/leases')).body).toMatchObject({
      pools: [{ pool: '10.96.0.0/24', size: 50, free: 50, leases: { bound: 0 } }],
      leases: [],
    });
    expect((await api('GET', '/api/transfers')).body).toEqual([]);
    expect((await api('GET', '/api/guests')).body).toEqual([]);
    expect((await api('GET', '/api/hosts/pc/boots')).body).toEqual([]);
    expect(await api('GET', '/api/hosts/nobody/boots')).toMatchObject({ status: 404, body: { code: 'E_HOST' } });
    expect(await api('GET', '/api/nothing')).toMatchObject({ status: 404, body: { code: 'E_HTTP_NOT_FOUND' } });
    expect(await api('DELETE', '/api/hosts')).toMatchObject({ status: 405, body: { code: 'E_HTTP_METHOD' } });
  });

  it('refuses actions without the token, bad JSON and unknown names, and changes nothing', async () => {
    const before = readFileSync(stateFile, 'utf8');
    const refusals: [string, string, { token?: string; body?: string }, number, string][] = [
      ['/api/hosts/pc/wake', 'no token', {}, 401, 'E_HTTP_TOKEN'],
      ['/api/hosts/pc/wake', 'a wrong token', { token: 'open-sesame-1235' }, 401, 'E_HTTP_TOKEN'],
      ['/api/hosts/pc/assign', 'no token', { body: '{"be":"other"}' }, 401, 'E_HTTP_TOKEN'],
      ['/api/hosts/pc/assign', 'bad JSON', { token, body: '{"be": other}' }, 400, 'E_HTTP_JSON'],
      ['/api/hosts/pc/assign', 'a JSON array', { token, body: '["other"]' }, 400, 'E_HTTP_JSON'],
      ['/api/hosts/pc/assign', 'no be', { token, body: '{}' }, 400, 'E_USAGE'],
      ['/api/hosts/nobody/assign', 'an unknown host', { token, body: '{"be":"other"}' }, 404, 'E_HOST'],
      ['/api/hosts/pc/assign', 'an unknown BE', { token, body: '{"be":"gone"}' }, 400, 'E_USAGE'],
      ['/api/hosts/nobody/wake', 'an unknown host', { token }, 404, 'E_HOST'],
    ];
    for (const [path, what, options, status, code] of refusals) {
      const answer = await api('POST', path, options);
      expect(answer, `${path} with ${what}`).toMatchObject({ status, body: { code } });
      expect(typeof (answer.body as { message: unknown }).message).toBe('string');
    }
    expect(await api('GET', '/api/hosts/pc/wake')).toMatchObject({ status: 405, body: { code: 'E_HTTP_METHOD' } });
    expect(readFileSync(stateFile, 'utf8')).toBe(before);
    expect((await api('GET', '/api/hosts/pc/boots')).body).toEqual([]);
    expect(((await api('GET', '/api/envs')).body as { name: string; pxe: boolean }[]).find((e) => e.name === 'other')?.pxe).toBe(false);
  });

  it('wakes a host with the token: the magic packet on the wire, the step in its timeline and on the event stream', async () => {
    const capture = await startCapture(lan, 'pc', 'udp port 9', 1);
    const answer = await api('POST', '/api/hosts/pc/wake', { token });
    expect(answer).toEqual({ status: 200, body: { host: 'pc', mac, address: '10.96.0.255', port: 9 } });
    const [frame] = await capture.frames();
    expect(frame?.udp).toMatchObject({ dstIp: '10.96.0.255', dstPort: 9 });
    expect(frame?.udp?.payload.toString('hex')).toBe('ff'.repeat(6) + mac.replaceAll(':', '').repeat(16));
    expect(await nextEvent('boot')).toMatchObject({ event: { step: 'wol', mac, host: 'pc' }, timeline: { key: 'pc' } });
    const boots = (await api('GET', '/api/hosts/pc/boots')).body as { events: { step: string }[] }[];
    expect(boots.map((b) => b.events.map((e) => e.step))).toEqual([['wol']]);
  });

  it('assigns a host with the token: the BE made PXE-bootable, the state file, and the DHCP answer all follow', async () => {
    const answer = await api('POST', '/api/hosts/pc/assign', { token, body: '{"be":"other"}' });
    expect(answer).toEqual({ status: 200, body: { host: 'pc', be: 'other', madePxeBootable: true } });
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(state.assignments).toEqual({ pc: 'other' });
    expect(state.pxe).toEqual(['head', 'other']);
    await nextEvent('reload');
    expect(((await api('GET', '/api/hosts')).body as { be: string }[])[0]?.be).toBe('other');
    const script = recorderScript(
      dir,
      'udhcpc.sh',
      'echo "event reason=$1 ip=$ip boot_file=$boot_file" >> "$0.out"\n[ "$1" = bound ] && ip addr replace "$ip/24" dev eth0',
    );
    const firmware = await lan.run('pc', [
      ...['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '5', '-T', '1'],
      ...['-V', 'PXEClient:Arch:00000:UNDI:002001', '-x', '0x5d:0000', '-O', 'bootfile'],
    ]);
    expect(firmware.exitCode, String(firmware.stderr)).toBe(0);
    expect(records(`${script}.out`).find((r) => r.reason === 'bound')).toMatchObject({ ip: '10.96.0.50', boot_file: 'other/boot/pxeboot' });
    expect(await nextEvent('boot')).toMatchObject({ event: { step: 'firmware-dhcp', host: 'pc', detail: 'other/boot/pxeboot' } });
  });

  it('counts a DORA, a TFTP and an HTTP transfer in /metrics, which promtool finds clean', async () => {
    const before = samples(await metrics());
    const script = recorderScript(dir, 'dora.sh', '[ "$1" = bound ] && ip addr replace "$ip/24" dev eth0');
    const dora = await lan.run('pc', ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '5', '-T', '1', '-V', 'PXEClient:Arch:00000:UNDI:002001']);
    expect(dora.exitCode, String(dora.stderr)).toBe(0);
    expect(await nextEvent('boot')).toMatchObject({ event: { step: 'firmware-dhcp', host: 'pc' } });
    const tftp = await lan.run('pc', ['busybox', 'tftp', '-g', '-r', 'boot/pxeboot', '-l', join(dir, 'pxeboot.out'), '10.96.0.1']);
    expect(tftp.exitCode).toBe(0);
    expect(await nextEvent('boot')).toMatchObject({ event: { step: 'loader-fetched', protocol: 'tftp', host: 'pc' } });
    const http = await lan.run('pc', ['curl', '-sS', '-m', '20', '-o', join(dir, 'kernel.out'), 'http://10.96.0.1:8080/boot/kernel/kernel']);
    expect(http.exitCode, String(http.stderr)).toBe(0);
    expect(readFileSync(join(dir, 'kernel.out'))).toEqual(kernel);
    expect(await nextEvent('boot')).toMatchObject({ event: { step: 'kernel-fetched', protocol: 'http', host: 'pc' } });

    const text = await metrics();
    const check = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
    expect(`${check.stdout}${check.stderr}`.trim(), 'promtool check metrics').toBe('');
    expect(check.exitCode).toBe(0);
    const after = samples(text);
    const grew = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    // udhcpc may repeat a message it thinks lost; each is counted.
    expect(grew('be_dhcp_packets_total{type="discover",outcome="offer"}')).toBeGreaterThanOrEqual(1);
    expect(grew('be_dhcp_packets_total{type="request",outcome="ack"}')).toBeGreaterThanOrEqual(1);
    expect(grew('be_transfers_total{protocol="tftp",outcome="complete"}')).toBe(1);
    expect(grew('be_transfers_total{protocol="http",outcome="complete"}')).toBe(1);
    expect(grew('be_transfer_sent_bytes_total{protocol="tftp"}')).toBe('PXEBOOT of other'.length);
    expect(grew('be_transfer_sent_bytes_total{protocol="http"}')).toBe(kernel.length);
    expect(grew('be_boot_step_duration_seconds_count{step="kernel-fetched"}')).toBe(1);
    expect(after.get('be_dhcp_leases{pool="10.96.0.0/24",state="bound"}')).toBe(1);
    // The reservation is not in the range: the range's 50 addresses stay free.
    expect(after.get('be_dhcp_free_addresses{pool="10.96.0.0/24"}')).toBe(50);
    expect(after.get('be_transfers_in_flight{protocol="tftp"}')).toBe(0);
    expect(after.get('be_nfs_exports')).toBe(2);
    expect(after.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(((await api('GET', '/api/leases')).body as { leases: { ip: string; state: string }[] }).leases).toMatchObject([
      { ip: '10.96.0.50', mac, host: 'pc', state: 'bound', pool: '10.96.0.0/24' },
    ]);
    const hosts = (await api('GET', '/api/hosts')).body as { lease: { state: string }; lastBoot: { events: { step: string }[] } }[];
    expect(hosts[0]?.lease.state).toBe('bound');
    // One boot since the wake-up: a repeated firmware DHCP is a retry, not a new boot (src/boot/timeline.ts).
    expect(hosts[0]?.lastBoot.events.map((e) => e.step)).toEqual(['wol', 'firmware-dhcp', 'firmware-dhcp', 'loader-fetched', 'kernel-fetched']);
    expect(((await api('GET', '/api/hosts/pc/boots')).body as unknown[]).length).toBe(1);
  });

  it('lists a slow download under way, with its progress, in /api/transfers and on the event stream', async () => {
    // Larger than what the socket buffers of both ends hold (a few MiB), so the server is still
    // sending while curl, held to 4 MiB/s, reads.
    const big = Buffer.alloc(24 << 20, 'b');
    writeFileSync(join(envs, 'other', 'boot', 'big.img'), big);
    const out = join(dir, 'slow.out');
    const slow = lan.spawnIn(lan.host('pc').ns, ['curl', '-sS', '--limit-rate', '4M', '-o', out, 'http://10.96.0.1:8080/boot/big.img']);
    type Row = { protocol: string; file: string; bytes: number; size: number };
    let rows: Row[] = [];
    while (!rows.some((r) => r.protocol === 'http' && r.bytes > 0)) rows = (await nextEvent('transfers')) as unknown as Row[];
    expect(rows).toEqual([expect.objectContaining({ protocol: 'http', file: 'boot/big.img', size: big.length })]);
    const listed = (await api('GET', '/api/transfers')).body as Row[];
    expect(listed).toHaveLength(1);
    expect(listed[0]!.bytes).toBeGreaterThan(0);
    expect(listed[0]!.bytes).toBeLessThanOrEqual(big.length);
    expect((await slow).exitCode).toBe(0);
    expect(readFileSync(out).equals(big)).toBe(true);
    // One empty list says the last transfer ended.
    while (rows.length > 0) rows = (await nextEvent('transfers')) as unknown as Row[];
    expect((await api('GET', '/api/transfers')).body).toEqual([]);
  });
});
