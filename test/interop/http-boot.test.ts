/**
 * HTTP boot with real clients: `be serve` (http, dhcp, control) in one namespace, PXE-bootable `dir`
 * boot environments, and clients in two others: pc, a host in hosts[] that boots `head`, and laptop,
 * which no host entry names. udhcpc asks like UEFI HTTP boot firmware and gets a URL of ours; curl,
 * GNU wget and busybox wget fetch boot/loader.efi whole and by ranges, and every byte is compared with
 * the file; the names TFTP refuses (test/services/tftp/refusals.test.ts) are refused over HTTP too, with
 * nothing of them leaked; the page, API and metrics answer only loopback (http.allow) or the token,
 * while boot files are open to all; and the downloads are boot steps in `be status`.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beMain } from '../cli/be.js';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { serveBe, type RunningBe } from '../lan/serve.js';
import { makeClient, recorderScript, records } from './dhcp/lan.js';

const peers = needPeers('HTTP boot with curl and wget', ['ip', 'curl', 'wget', 'busybox', 'udhcpc', 'mkfifo', 'mknod'], { root: true });
const mac = '52:54:00:be:15:01';
const token = 'http-boot-test-token';

describe.skipIf(peers.skip)('HTTP boot: the files TFTP serves, over HTTP', () => {
  // Made in beforeAll: vitest runs this body even when the suite is skipped, and afterAll would not remove it then.
  const dir = join(tmpdir(), `be-http-boot-${process.pid}`);
  const envs = join(dir, 'envs');
  const root = join(dir, 'state', 'tftp');
  const out = join(dir, 'out');
  const loader = randomBytes(3 * 1024 * 1024 + 12_345);
  let lan: Lan;
  let flags: string[];
  let serve: RunningBe | undefined;
  let base: string;

  afterAll(async () => {
    await serve?.stop();
    lan?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const inServer = (args: string[], timeoutMs = 60_000) => lan.run('server', ['node', beMain, ...flags, ...args], { timeoutMs });

  beforeAll(async () => {
    mkdirSync(out, { recursive: true });
    lan = Lan.create({ hosts: ['server', 'pc', 'laptop'], subnet: '10.93.0' });
    base = 'http://10.93.0.1:8080';
    const put = (path: string, data: string | Buffer) => {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, data);
    };
    put(join(envs, 'head', 'boot', 'loader.efi'), loader);
    put(join(envs, 'head', 'boot', 'kernel', 'kernel'), 'KERNEL of head');
    put(join(envs, 'head', 'etc', 'master.passwd'), 'root:secret-of-head');
    symlinkSync('../etc/master.passwd', join(envs, 'head', 'boot', 'passwd'));
    put(join(envs, 'other', 'boot', 'loader.efi'), 'LOADER of other');
    put(join(envs, 'other', 'etc', 'ssh_host_key'), 'secret-of-other');
    put(join(root, 'boot', 'loader.efi'), 'LOADER of the default root');
    put(join(dir, 'outside', 'secret'), 'secret-outside');
    symlinkSync(join(dir, 'outside', 'secret'), join(root, 'escape'));
    symlinkSync('../../outside/secret', join(root, 'rel-escape'));
    symlinkSync('/etc/passwd', join(root, 'passwd'));
    symlinkSync('/dev/zero', join(root, 'zero'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
    execFileSync('mknod', [join(root, 'null-dev'), 'c', '1', '3']);
    flags = [
      ...['--set', 'be.backend=dir', '--set', `be.root=${envs}`, '--set', `server.stateDir=${join(dir, 'state')}`],
      ...['--set', 'server.address=10.93.0.1', '--set', 'nfs.network=10.93.0.0/24', '--set', `nfs.exportsFile=${join(dir, 'exports')}`],
      ...['--set', 'nfs.reload=["true"]', '--set', 'dhcp.mode=authoritative', '--set', 'dhcp.range=10.93.0.100-10.93.0.150'],
      ...['--set', `dhcp.leaseFile=${join(dir, 'leases')}`, '--set', `tftp.root=${root}`],
      ...['--set', 'http.enabled=true', '--set', `http.token=${token}`],
      ...['--set', 'hosts.0.name=pc', '--set', `hosts.0.mac=${mac}`, '--set', 'hosts.0.ip=10.93.0.50'],
    ];
    // Both BEs PXE-bootable (so other's boot/ is served, and its etc/ still is not); pc boots head.
    for (const args of [
      ['sharepxe', 'other'],
      ['bootpxe', 'head', '--host', 'pc'],
    ]) {
      const result = await inServer(args);
      expect(result.exitCode, String(result.stderr)).toBe(0);
    }
    serve = await serveBe(lan, 'server', { settings: flags, only: 'http,dhcp,control' });
    makeClient(lan, 'pc', mac);
  });

  /** curl in a namespace: the status, the headers and the body written to a file. */
  async function curl(host: string, target: string, extra: string[] = []): Promise<{ code: number; status: number; headers: string; body: Buffer }> {
    const name = `curl-${Math.random().toString(36).slice(2)}`;
    const result = await lan.run(host, [
      ...['curl', '-sS', '--path-as-is', '-m', '20', '-o', join(out, name), '-D', join(out, `${name}.h`), '-w', '%{http_code}'],
      ...extra,
      target.startsWith('http') ? target : `${base}${target}`,
    ]);
    const read = (file: string) => {
      try {
        return readFileSync(file);
      } catch {
        return Buffer.alloc(0);
      }
    };
    return { code: result.exitCode ?? -1, status: Number(result.stdout), headers: read(join(out, `${name}.h`)).toString(), body: read(join(out, name)) };
  }

  it('points a UEFI HTTP boot client (option 60 HTTPClient) at this service, and curl fetches what the URL names', async () => {
    const script = recorderScript(
      dir,
      'udhcpc.sh',
      'echo "event reason=$1 ip=$ip boot_file=$boot_file" >> "$0.out"\n[ "$1" = bound ] && ip addr replace "$ip/24" dev eth0',
    );
    // UEFI HTTP boot sends HTTPClient and client architecture 16 (x64 UEFI HTTP, RFC 4578 / IANA).
    const dhcp = await lan.run('pc', [
      ...['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '5', '-T', '1'],
      ...['-V', 'HTTPClient:Arch:00016:UNDI:003016', '-x', '0x5d:0010', '-O', 'bootfile'],
    ]);
    expect(dhcp.exitCode, String(dhcp.stderr)).toBe(0);
    const bound = records(`${script}.out`).find((r) => r.reason === 'bound');
    expect(bound).toMatchObject({ ip: '10.93.0.50', boot_file: `${base}/head/boot/loader.efi` });
    const fetched = await curl('pc', bound!.boot_file!);
    expect(fetched).toMatchObject({ code: 0, status: 200 });
    expect(fetched.body.equals(loader)).toBe(true);
  });

  it('curl fetches boot/loader.efi whole (the client’s own BE, by its plain name), by ranges, and HEAD', async () => {
    const whole = await curl('pc', '/boot/loader.efi');
    expect(whole.status).toBe(200);
    expect(whole.body.equals(loader)).toBe(true);
    expect(whole.headers).toMatch(new RegExp(`^content-length: ${loader.length}\r$`, 'im'));
    expect(whole.headers).toMatch(/^last-modified: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r$/im);
    expect(whole.headers).toMatch(/^accept-ranges: bytes\r$/im);
    for (const [range, start, end] of [
      ['0-0', 0, 1],
      ['1000-299999', 1000, 300_000],
      ['3000000-', 3_000_000, loader.length],
      ['-4096', loader.length - 4096, loader.length],
    ] as const) {
      const part = await curl('pc', '/boot/loader.efi', ['-r', range]);
      expect(part.status, range).toBe(206);
      expect(part.body.equals(loader.subarray(start, end)), range).toBe(true);
      expect(part.headers).toMatch(new RegExp(`^content-range: bytes ${start}-${end - 1}/${loader.length}\r$`, 'im'));
    }
    const head = await curl('pc', '/boot/loader.efi', ['-I']);
    expect(head.status).toBe(200);
    expect(head.headers).toMatch(new RegExp(`^content-length: ${loader.length}\r$`, 'im'));
    // A client no host entry names gets the default root's boot/, as over TFTP.
    expect((await curl('laptop', '/boot/loader.efi')).body.toString()).toBe('LOADER of the default root');
    expect((await curl('laptop', '/head/boot/loader.efi')).body.equals(loader)).toBe(true);
    expect((await curl('laptop', '/other/boot/loader.efi')).body.toString()).toBe('LOADER of other');
  });

  it('answers a range past the end with 416 and Content-Range: bytes */SIZE', async () => {
    const past = await curl('pc', '/boot/loader.efi', ['-r', `${loader.length}-`]);
    expect(past.status).toBe(416);
    expect(past.headers).toMatch(new RegExp(`^content-range: bytes \\*/${loader.length}\r$`, 'im'));
    expect(past.body.length).toBe(0);
  });

  it('GNU wget and busybox wget fetch it whole, and resume a partial file with a Range request (-c)', async () => {
    const url = `${base}/head/boot/loader.efi`;
    for (const wget of [['wget'], ['busybox', 'wget']]) {
      const name = wget.join('-');
      const whole = await lan.run('laptop', [...wget, '-q', '-O', join(out, `${name}-whole`), url]);
      expect(whole.exitCode, String(whole.stderr)).toBe(0);
      expect(readFileSync(join(out, `${name}-whole`)).equals(loader)).toBe(true);
      // -c finds the first 1 MiB + 7 bytes on disk and asks for the rest: Range: bytes=1048583-.
      const partial = join(out, `${name}-partial`);
      writeFileSync(partial, loader.subarray(0, 1024 * 1024 + 7));
      const resumed = await lan.run('laptop', [...wget, ...(wget.length === 1 ? ['-S'] : []), '-c', '-O', partial, url]);
      expect(resumed.exitCode, String(resumed.stderr)).toBe(0);
      if (wget.length === 1) expect(String(resumed.stderr)).toMatch(/HTTP\/1\.1 206 Partial Content[\s\S]*Content-Range: bytes 1048583-/);
      expect(readFileSync(partial).equals(loader)).toBe(true);
    }
  });

  // The names TFTP refuses (test/services/tftp/refusals.test.ts, test/interop/tftp.test.ts), over HTTP.
  it.each([
    ['/../../etc/passwd', 403],
    ['/boot/../../etc/passwd', 403],
    ['/%2e%2e/%2e%2e/etc/passwd', 403],
    ['/boot/%2E%2E/%2E%2E/etc/shadow', 403],
    ['/..%5c..%5cetc%5cpasswd', 403],
    ['/boot\\..\\..\\etc\\passwd', 403],
    ['/boot/../etc/master.passwd', 403],
    ['/escape', 403],
    ['/rel-escape', 403],
    ['/passwd', 403],
    ['/zero', 403],
    ['/fifo', 403],
    ['/null-dev', 403],
    ['/boot', 403],
    ['/head/boot/kernel', 403],
    ['/head/boot/passwd', 403],
    // pc's own BE's boot/passwd, a link to its etc/master.passwd; laptop has no BE, and the default root no such file.
    ['/boot/passwd', 403, ['pc']],
    ['/boot/passwd', 404, ['laptop']],
    ['/head/etc/master.passwd', 404],
    ['/other/etc/ssh_host_key', 404],
    ['/etc/passwd', 404],
    ['//etc/passwd', 404],
    ['/missing', 404],
  ] as [string, number, string[]?][])('refuses %s with %i, and nothing of it leaks', async (target, status, hosts = ['pc', 'laptop']) => {
    for (const host of hosts) {
      const answer = await curl(host, target);
      expect(answer.status, `${host} ${target}`).toBe(status);
      expect(answer.body.toString()).not.toMatch(/secret|root:/);
      expect(answer.body.length).toBeLessThan(64);
    }
  });

  it('keeps the page, API and metrics to loopback (http.allow) or the token, while boot files stay open', async () => {
    for (const [path, status] of [
      ['/', 200],
      ['/api/x', 404],
      ['/metrics', 200],
    ] as const) {
      const refused = await curl('pc', path);
      expect(refused.status, path).toBe(403);
      expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 'E_HTTP_FORBIDDEN' });
      const shown = await curl('pc', path, ['-H', `Authorization: Bearer ${token}`]);
      expect(shown.status, path).toBe(status);
      const local = await lan.run('server', ['curl', '-sS', '-m', '10', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:8080${path}`]);
      expect(Number(local.stdout), path).toBe(status);
    }
    expect((await curl('pc', '/boot/loader.efi')).status).toBe(200);
  });

  it('streams a 64 MiB file to curl while be serve’s resident memory grows far less than the file', async () => {
    // `ip netns exec` execs the command: the child's PID is be serve's own node process.
    const status = () => readFileSync(`/proc/${serve!.child.pid}/status`, 'utf8');
    expect(status()).toMatch(/^Name:\s+node$/m);
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status())![1]) * 1024;
    const big = join(envs, 'head', 'boot', 'big');
    writeFileSync(big, '');
    const block = randomBytes(1024 * 1024);
    for (let i = 0; i < 64; i++) writeFileSync(big, block, { flag: 'a' });
    // One small download first, so what a download needs is loaded and counted before.
    await curl('pc', '/boot/kernel/kernel');
    const before = kib('VmRSS');
    let peak = before;
    // Sampled while curl runs (VmHWM could hold an older, higher peak); sha256sum consumes as curl writes.
    const fetching = lan.run('pc', ['sh', '-c', `curl -sS -m 60 ${base}/boot/big | sha256sum`]);
    const sampler = setInterval(() => (peak = Math.max(peak, kib('VmRSS'))), 5);
    const fetched = await fetching.finally(() => clearInterval(sampler));
    expect(String(fetched.stdout).split(' ')[0]).toBe(
      createHash('sha256')
        .update(Buffer.concat(new Array(64).fill(block)))
        .digest('hex'),
    );
    // Measured: under 1 MiB. Buffered whole, the file alone would be 64 MiB.
    expect(peak - before).toBeLessThan(8 * 1024 * 1024);
    rmSync(big);
  });

  it('reports every download of a loader or kernel as a boot step over HTTP', async () => {
    expect((await curl('pc', '/boot/kernel/kernel')).body.toString()).toBe('KERNEL of head');
    const status = JSON.parse(String((await inServer(['status', 'pc', '--json'])).stdout));
    expect(status).toMatchObject({ host: 'pc', mac, ip: '10.93.0.50' });
    const steps = status.events.map((e: { step: string; detail?: string; protocol?: string }) => [e.step, e.detail, e.protocol]);
    expect(steps.slice(0, 2)).toEqual([
      ['firmware-dhcp', `${base}/head/boot/loader.efi`, undefined],
      ['loader-fetched', 'head/boot/loader.efi', 'http'],
    ]);
    expect(steps).toContainEqual(['loader-fetched', 'boot/loader.efi', 'http']);
    expect(steps.at(-1)).toEqual(['kernel-fetched', 'boot/kernel/kernel', 'http']);
    const text = String((await inServer(['status', 'pc'])).stdout);
    expect(text).toMatch(/kernel fetched +boot\/kernel\/kernel \(HTTP\)/);
  });
});
