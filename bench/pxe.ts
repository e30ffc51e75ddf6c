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
 * BENCH_PXE_ROUNDS (default 5) boots per server (TCG boot times swing with the machine's load: the median
 * and the minimum of several boots mean more than one); BENCH_PXE_ONLY=linux or freebsd runs one part.
 * Needs root and the peers of test/e2e (npm run peers).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PxeLab } from '../test/e2e/lab.js';
import { LineWatcher } from '../test/lan/lines.js';
import { machine, median, writeSection } from './results.js';

const rounds = Number(process.env.BENCH_PXE_ROUNDS ?? 5);
const only = process.env.BENCH_PXE_ONLY;
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
    if (only !== 'linux') await freebsdLoader(lab);
    if (only === 'freebsd') return;
    // One boot from each server first, not counted: the first boot after the lab starts is slower for
    // whichever server serves it (cold page cache for the kernel image, QEMU's first start).
    for (const server of ['dnsmasq', 'be'] as const) {
      if (server === 'dnsmasq') await lab.startDnsmasq();
      else await lab.startBe();
      await lab.boot('bios', 180_000);
      await lab.stopDhcpServer();
    }
    for (let round = 0; round < rounds; round++) {
      // Alternate which server goes first, so neither always boots on a warmer cache.
      const order: ServerName[] = round % 2 === 0 ? ['dnsmasq', 'be'] : ['be', 'dnsmasq'];
      for (const server of order) {
        if (server === 'dnsmasq') await lab.startDnsmasq();
        else await lab.startBe();
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
  } finally {
    await lab.close();
    rmSync(captures, { recursive: true, force: true });
  }
  if (only === 'freebsd') return;
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
  writeSection('PXE boot', body);
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

await main();
