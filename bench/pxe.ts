/**
 * PXE boot wall time: the same BIOS boot (QEMU TCG, e1000, Debian's iPXE; the Linux guest of
 * test/e2e/guest.ts with its root and nested datasets over NFSv3 from nfs-ganesha on zfs-fuse) served
 * by dnsmasq (DHCP + TFTP, the reference) and by `be serve` (authoritative DHCP + TFTP), alternated in
 * one run on one lab: same files, same QEMU command, same NFS server. Time is from QEMU's start to the
 * nested-dataset marker on the serial console. Target: be <= 1.0x dnsmasq.
 *
 * Then the real FreeBSD 12.2 pxeboot (../shared/freebsd) from a BE made with be create and be sharepxe:
 * QEMU's start to the loader's attempt to load the kernel (there is none), be and dnsmasq serving the
 * same BE, alternated in the same way. Target: be <= 1.0x dnsmasq.
 *
 * Then the 8 MB kernel fetched by iPXE over TFTP and over HTTP, both from `be serve` (tftp, dhcp and http
 * on): the same BIOS boot, only the iPXE script differs (relative names, so TFTP; or
 * http://${next-server}:8080/head/boot/...), alternated. The kernel phase is read from a capture on the
 * server's interface: TFTP from the RRQ of vmlinuz to the RRQ of initrd.gz, HTTP from the GET of vmlinuz
 * to the GET of initrd.gz. HTTP is expected to be several times faster (TCP windows against lockstep blocks);
 * it was 14-21x while TFTP busy-polled after every block, which slowed the guest sharing the cores.
 *
 * BENCH_PXE_ROUNDS (default 5) boots per server (TCG boot times swing with the machine's load: the median
 * and the minimum of several boots mean more than one); BENCH_PXE_ONLY=linux, freebsd or http runs one part.
 * Needs root and the peers of test/e2e (npm run peers).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpScripts, PxeLab } from '../test/e2e/lab.js';
import { LineWatcher } from '../test/lan/lines.js';
import { machine, median, writeSection } from './results.js';

const rounds = Number(process.env.BENCH_PXE_ROUNDS ?? 5);
const only = process.env.BENCH_PXE_ONLY;
/** Probing: `--set` values for be serve (e.g. "tftp.busyPoll=0"); a probe prints but does not write RESULTS.md. */
const beSets = (process.env.BENCH_PXE_SET?.split(' ').filter(Boolean) ?? []).flatMap((value) => ['--set', value]);
if (only !== undefined && !['linux', 'freebsd', 'http'].includes(only)) throw new Error(`BENCH_PXE_ONLY=${only}: one of linux, freebsd, http`);
type ServerName = 'dnsmasq' | 'be';

interface Phases {
  /** Firmware DHCP: iPXE's first DISCOVER to its TFTP request for the loader. */
  dhcp: number;
  /** The 8 MB kernel over TFTP (iPXE, lockstep): its RRQ to the initramfs RRQ that follows it. */
  kernel: number;
}

/** Phase times read from a capture on the server's interface (tcpdump -tt: seconds since the epoch). */
function phases(pcap: string): Phases | undefined {
  const text = execFileSync('tcpdump', ['-r', pcap, '-n', '-tt'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const at = (pattern: RegExp) => {
    const line = text.split('\n').find((l) => pattern.test(l));
    return line === undefined ? undefined : Number(line.split(' ')[0]) * 1000;
  };
  const discover = at(/Request from/);
  const loader = at(/RRQ "[^"]*boot\/pxeboot"/);
  const kernel = at(/RRQ "[^"]*boot\/vmlinuz"/);
  const initrd = at(/RRQ "[^"]*boot\/initrd\.gz"/);
  if (discover === undefined || loader === undefined || kernel === undefined || initrd === undefined) return undefined;
  return { dhcp: loader - discover, kernel: initrd - kernel };
}

async function main(): Promise<void> {
  const lab = new PxeLab({ subnet: '8', mac: '52:54:00:be:08:01' });
  const times: Record<ServerName, number[]> = { dnsmasq: [], be: [] };
  const phaseTimes: Record<ServerName, Phases[]> = { dnsmasq: [], be: [] };
  const captures = mkdtempSync(join(tmpdir(), 'be-bench-pxe-'));
  const stop = () => {
    void lab.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const loadBefore = loadavg()[0]!;
  try {
    await lab.start();
    if (only === undefined || only === 'freebsd') await freebsdLoader(lab);
    if (only === 'http') await httpKernel(lab, captures);
    if (only === 'freebsd' || only === 'http') return;
    // One boot from each server first, not counted: the first boot after the lab starts is slower for
    // whichever server serves it (cold page cache for the kernel image, QEMU's first start).
    for (const server of ['dnsmasq', 'be'] as const) {
      if (server === 'dnsmasq') await lab.startDnsmasq();
      else await lab.startBe('head', { extra: beSets });
      await lab.boot('bios', 180_000);
      await lab.stopDhcpServer();
    }
    for (let round = 0; round < rounds; round++) {
      // Alternate which server goes first, so neither always boots on a warmer cache.
      const order: ServerName[] = round % 2 === 0 ? ['dnsmasq', 'be'] : ['be', 'dnsmasq'];
      for (const server of order) {
        if (server === 'dnsmasq') await lab.startDnsmasq();
        else await lab.startBe('head', { extra: beSets });
        const pcap = join(captures, `${server}-${round}.pcap`);
        const tcpdump = lab.lan.spawn('server', ['tcpdump', '-i', 'eth0', '-n', '-U', '-w', pcap, 'udp port 67 or udp port 68 or udp port 69']);
        await new LineWatcher(tcpdump.stderr).next(/listening on/);
        const result = await lab.boot('bios', 180_000);
        await lab.stopDhcpServer();
        if (tcpdump.pid !== undefined) process.kill(tcpdump.pid, 'SIGTERM');
        await tcpdump;
        const phase = phases(pcap);
        if (phase) phaseTimes[server].push(phase);
        if (result.ms === undefined || result.nestedMarker !== lab.markers.nested) {
          throw new Error(`${server}: the guest did not boot (timed out: ${result.timedOut}); console tail:\n${result.console.slice(-2000)}`);
        }
        times[server].push(result.ms);
        process.stdout.write(
          `pxe: round ${round + 1} ${server}: ${(result.ms / 1000).toFixed(1)} s${phase ? ` (firmware DHCP ${(phase.dhcp / 1000).toFixed(2)} s, kernel over TFTP ${(phase.kernel / 1000).toFixed(2)} s)` : ''}\n`,
        );
      }
    }
    if (only === undefined) await httpKernel(lab, captures);
  } finally {
    await lab.close();
    rmSync(captures, { recursive: true, force: true });
  }
  if (only === 'freebsd' || only === 'http') return;
  const row = (name: ServerName) => {
    const t = times[name];
    const p = phaseTimes[name];
    const ph = (key: keyof Phases) => (p.length ? `${(median(p.map((x) => x[key])) / 1000).toFixed(2)} s` : 'n/a');
    return `| ${name === 'be' ? '`be serve`' : 'dnsmasq'} | ${s(median(t))} | ${s(Math.min(...t))} | ${s(Math.max(...t))} | ${t.map(s).join(', ')} | ${ph('dhcp')} | ${ph('kernel')} |`;
  };
  const ratio = median(times.be) / median(times.dnsmasq);
  const load = `1-minute load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`;
  const body = `Wall time from QEMU start to the guest's nested-dataset marker on the serial console, BIOS, QEMU TCG
(no KVM), e1000 with Debian's iPXE, the Debian kernel + busybox initramfs as the guest, its root and nested
datasets over NFSv3 from nfs-ganesha on zfs-fuse. DHCP + TFTP by dnsmasq or by \`be serve\`, alternated,
${rounds} boots each, same lab, same files. An IPv6 router advertisement (dnsmasq, ra-only) is on the LAN in
both cases, so iPXE does not wait ~13 s for IPv6 autoconfiguration. Machine: ${machine()}; ${load}
(TCG boots stretch with every other process on the machine: compare rows of one run, not runs).

| server | median | min | max | boots | firmware DHCP (median) | 8 MB kernel over TFTP (median) |
| --- | --- | --- | --- | --- | --- | --- |
${row('dnsmasq')}
${row('be')}

be / dnsmasq (medians): ${ratio.toFixed(2)}x (target <= 1.0x). Almost all of a boot is QEMU emulating the firmware
and the kernel under TCG. The two phases the servers own are read from a capture on the server's interface:
firmware DHCP is iPXE's first DISCOVER to its loader request (dnsmasq's offer carries no option 60
\`PXEClient\`, so iPXE also waits its 2 s for ProxyDHCP offers; be's does); the kernel phase is iPXE fetching
vmlinuz over TFTP in lockstep (blksize 1432, no windowsize), i.e. the server's per-block turnaround.
One uncounted boot per server comes first.
Guest: ${lab.guest.packages.join(', ')}.`;
  if (beSets.length === 0) writeSection('PXE boot', body);
  process.stdout.write(`${body}\n`);
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * FreeBSD 12.2's real pxeboot, BIOS: iPXE's DHCP and TFTP fetch of pxeboot, then the loader's own
 * DHCP, its NFS reads of loader.conf and the Lua scripts (from nfs-ganesha, the same for both), up to
 * the probe's "trying the stock kernel load" line on the serial console.
 */
async function freebsdLoader(lab: PxeLab): Promise<void> {
  const loadBefore = loadavg()[0]!;
  await lab.addFreebsdEnvironment('r122', '12.2');
  const times: Record<ServerName, number[]> = { dnsmasq: [], be: [] };
  const bootOnce = async (server: ServerName): Promise<number> => {
    if (server === 'dnsmasq') await lab.startDnsmasq('r122');
    else await lab.startBe('r122', { source: 'catalogue' });
    const result = await lab.boot('bios', 180_000, { memoryMb: 512, serialConsole: true });
    await lab.stopDhcpServer();
    const reached = result.timeline.find((l) => l.line.includes('BEPROBE trying the stock kernel load'));
    if (!reached)
      throw new Error(`${server}: the 12.2 loader did not reach the kernel (timed out: ${result.timedOut}); console tail:\n${result.console.slice(-2000)}`);
    return reached.ms;
  };
  for (const server of ['dnsmasq', 'be'] as const) await bootOnce(server); // uncounted, as above
  for (let round = 0; round < rounds; round++) {
    const order: ServerName[] = round % 2 === 0 ? ['dnsmasq', 'be'] : ['be', 'dnsmasq'];
    for (const server of order) {
      const ms = await bootOnce(server);
      times[server].push(ms);
      process.stdout.write(`pxe: FreeBSD 12.2 round ${round + 1} ${server}: ${s(ms)}\n`);
    }
  }
  const row = (name: ServerName) => {
    const t = times[name];
    return `| ${name === 'be' ? '`be serve`' : 'dnsmasq'} | ${s(median(t))} | ${s(Math.min(...t))} | ${s(Math.max(...t))} | ${t.map(s).join(', ')} |`;
  };
  const ratio = median(times.be) / median(times.dnsmasq);
  const body = `Wall time from QEMU start to the real FreeBSD 12.2-RELEASE pxeboot's attempt to load the kernel
(the probe's line on the serial console; there is no kernel here), BIOS, QEMU TCG, e1000 with Debian's
iPXE. The BE was made with \`be create -l freebsd\`, holds 12.2's /boot, and is shared by \`be sharenfs\`
(nfs-ganesha, the same for both) and \`be sharepxe\`. DHCP + TFTP by dnsmasq (root-path option for the BE)
or by \`be serve\`, alternated, ${rounds} boots each, one uncounted boot per server first. The loader's own
DHCP, then its NFS reads (loader.conf, the Lua scripts) come after the firmware's DHCP and TFTP.
Machine: ${machine()}; 1-minute load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end.

| server | median | min | max | boots |
| --- | --- | --- | --- | --- |
${row('dnsmasq')}
${row('be')}

be / dnsmasq (medians): ${ratio.toFixed(2)}x (target <= 1.0x).`;
  writeSection('PXE boot, FreeBSD 12.2 pxeboot', body);
  process.stdout.write(`${body}\n`);
}

type Transport = 'tftp' | 'http';

/**
 * The kernel phase of one boot from a capture on the server's interface (tcpdump -tt -A: a header line
 * with the time, then the payload): TFTP from the RRQ of vmlinuz to the RRQ of initrd.gz; HTTP from
 * the GET of vmlinuz to the GET of initrd.gz (iPXE asks for the next file once the last one is in).
 */
function kernelPhase(pcap: string, transport: Transport): number | undefined {
  const text = execFileSync('tcpdump', ['-r', pcap, '-n', '-tt', '-A'], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 << 20 });
  let at: number | undefined;
  const seen: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const header = /^(\d+\.\d+) IP /.exec(line);
    if (header) at = Number(header[1]) * 1000;
    const request = transport === 'tftp' ? /RRQ "[^"]*boot\/(vmlinuz|initrd\.gz)"/.exec(line) : /GET \S*\/boot\/(vmlinuz|initrd\.gz) HTTP/.exec(line);
    if (request && at !== undefined && seen[request[1]!] === undefined) seen[request[1]!] = at;
  }
  const kernel = seen.vmlinuz;
  const initrd = seen['initrd.gz'];
  return kernel === undefined || initrd === undefined ? undefined : initrd - kernel;
}

/**
 * The 8 MB kernel over TFTP and over HTTP from the same `be serve` (tftp, dhcp, http; the BE served by
 * path from tftp.root), the same BIOS boot: for TFTP the host gets the BE's pxeboot (the iPXE script with
 * relative names), for HTTP the host's ipxeScript is the BE's http-named.ipxe (absolute URLs,
 * http://${next-server}:8080/head/boot/...); both scripts come over TFTP. Alternated, one uncounted boot each first.
 */
async function httpKernel(lab: PxeLab, captures: string): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const phase: Record<Transport, number[]> = { tftp: [], http: [] };
  const boots: Record<Transport, number[]> = { tftp: [], http: [] };
  const served: Record<Transport, number[]> = { tftp: [], http: [] };
  const bootOnce = async (transport: Transport, pcap: string | undefined) => {
    await lab.startBe('head', { http: true, ...(transport === 'http' ? { host: { ipxeScript: `head/boot/${httpScripts.named}` } } : {}) });
    const tcpdump = pcap
      ? lab.lan.spawn('server', ['tcpdump', '-i', 'eth0', '-n', '-U', '-w', pcap, 'udp port 67 or udp port 68 or udp port 69 or tcp port 8080'])
      : undefined;
    if (tcpdump) await new LineWatcher(tcpdump.stderr).next(/listening on/);
    const result = await lab.boot('bios', 180_000);
    const log = lab.serverLog();
    await lab.stopDhcpServer();
    if (tcpdump?.pid !== undefined) process.kill(tcpdump.pid, 'SIGTERM');
    await tcpdump;
    if (result.ms === undefined || result.nestedMarker !== lab.markers.nested) {
      throw new Error(`kernel over ${transport}: the guest did not boot (timed out: ${result.timedOut}); console tail:\n${result.console.slice(-2000)}`);
    }
    // Where the kernel came from, by be's own log: the other transport must not have served it.
    const msg = transport === 'http' ? '"msg":"download complete"' : '"msg":"transfer complete"';
    const kernel = log
      .map((l) => (l.includes(msg) ? (JSON.parse(l) as { file: string; ms: number }) : undefined))
      .find((e) => e?.file.endsWith('boot/vmlinuz'));
    if (!kernel) throw new Error(`kernel over ${transport}: be logged no ${msg} of vmlinuz:\n${log.join('\n')}`);
    return { ms: result.ms, servedMs: kernel.ms };
  };
  for (const transport of ['tftp', 'http'] as const) await bootOnce(transport, undefined);
  for (let round = 0; round < rounds; round++) {
    const order: Transport[] = round % 2 === 0 ? ['tftp', 'http'] : ['http', 'tftp'];
    for (const transport of order) {
      const pcap = join(captures, `kernel-${transport}-${round}.pcap`);
      const { ms, servedMs } = await bootOnce(transport, pcap);
      const kernel = kernelPhase(pcap, transport);
      if (kernel === undefined) throw new Error(`kernel over ${transport}: the capture has no request for vmlinuz then initrd.gz`);
      phase[transport].push(kernel);
      boots[transport].push(ms);
      served[transport].push(servedMs);
      process.stdout.write(`pxe: kernel round ${round + 1} ${transport}: kernel phase ${kernel.toFixed(0)} ms (be's log: ${servedMs} ms), boot ${s(ms)}\n`);
    }
  }
  const msOf = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
  const row = (t: Transport) => {
    const p = phase[t];
    return `| ${t === 'http' ? 'HTTP' : 'TFTP'} | ${msOf(median(p))} | ${msOf(Math.min(...p))} | ${msOf(Math.max(...p))} | ${p.map(msOf).join(', ')} | ${msOf(median(served[t]))} | ${s(median(boots[t]))} |`;
  };
  const ratio = median(phase.tftp) / median(phase.http);
  const body = `iPXE (Debian's, QEMU TCG, BIOS, e1000) fetching the 8 MB Linux kernel (${lab.guest.packages[0] ?? 'Debian'}) of the PXE lab from
\`be serve\` over TFTP (the iPXE script with relative names: lockstep, blksize 1432, no windowsize) or over
HTTP (the script's absolute URLs, \`http://\${next-server}:8080/head/boot/...\`, be's http service), the
same boot otherwise (DHCP and the script over TFTP from the same be serve, the guest's root over NFSv3),
alternated, ${rounds} boots each, one uncounted boot each first. Kernel phase from a capture on the server's
interface: TFTP from the RRQ of vmlinuz to the RRQ of initrd.gz, HTTP from the GET of vmlinuz to the GET of
initrd.gz (the time iPXE spends on the kernel, its own copying included); "be's log" is the \`ms\` of be's
transfer complete / download complete line for vmlinuz. Machine: ${machine()}; 1-minute load average
${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end.

| kernel over | kernel phase (median) | min | max | each boot | be's log (median) | whole boot (median) |
| --- | --- | --- | --- | --- | --- | --- |
${row('tftp')}
${row('http')}

TFTP / HTTP kernel phase (medians): ${ratio.toFixed(1)}x (TCP windows against lockstep blocks). The whole boot moves by far less:
under TCG almost all of it is QEMU emulating the firmware and the kernel, and boot times swing by a second or two.`;
  writeSection('PXE boot, kernel over HTTP', body);
  process.stdout.write(`${body}\n`);
}

await main();
