/**
 * The real FreeBSD loaders (../shared/freebsd: 12.2 and 10.1, BIOS pxeboot and UEFI loader.efi) boot
 * from be: QEMU's iPXE takes DHCP from `be serve` and fetches the loader from the BE's boot/ over be's
 * TFTP; the loader runs its own DHCP, mounts the boot environment over NFS (nfs-ganesha serving be's
 * generated exports of a BE `be create` made on zfs-fuse), reads loader.conf and its scripts, and the
 * probe scripts print what it received as `BEPROBE name=value` on the serial console before the boot
 * ends at the kernel, which does not exist here. Each loader boots for a host with a reservation and
 * for one without.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestInfo } from '../../src/dhcp/info.js';
import { decodePacket, MessageType } from '../../src/dhcp/packet.js';
import type { Frame } from '../lan/pcap.js';
import { inCI, needPeers } from '../lan/peers.js';
import { beMain, freebsdFixtures, labPeers, PxeLab, type Firmware, type FreebsdRelease } from './lab.js';

const peers = needPeers('the real FreeBSD loaders in QEMU', labPeers, { root: true });
const fixtures = existsSync(join(freebsdFixtures, '12.2-RELEASE', 'boot', 'pxeboot'));
if (!fixtures && inCI) throw new Error(`CI=true and the FreeBSD fixtures are missing: ${freebsdFixtures}`);

/** One boot under TCG takes 20-50 s here; the bound only ends a real hang. */
const bootTimeoutMs = 240_000;

/**
 * The console as the loader printed it. SeaBIOS copies the BIOS text screen to the serial port
 * (sercon) with cursor escapes, and wraps a line at column 80 with an escape to row;80 and a newline:
 * join those, then drop the remaining escapes.
 */
function unwrapConsole(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the terminal escapes being removed
  return text.replace(/\x1b\[\d+;80H\n/g, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

/** What the loader's probe printed: the last value of each `BEPROBE name=value` line. */
function probed(console: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of unwrapConsole(console).matchAll(/^BEPROBE ([\w.-]+)=(.*)$/gm)) out[match[1]!] = match[2]!.trim();
  return out;
}

const captureDir = process.env.BE_CAPTURE_DHCP;

/** The loader's first DISCOVER and REQUEST (not iPXE's) as hex, 32 bytes a line, like test/fixtures/dhcp. */
function saveLoaderRequests(frames: Frame[], name: string): void {
  const loader = frames
    .map((f) => f.udp?.payload)
    .filter((p): p is Buffer => p !== undefined)
    .map((bytes) => ({ bytes, info: requestInfo(decodePacket(bytes)) }))
    .filter(({ info }) => !info.ipxe);
  for (const type of [MessageType.DISCOVER, MessageType.REQUEST]) {
    const first = loader.find(({ info }) => info.messageType === type);
    if (!first) throw new Error(`${name}: no loader ${type === MessageType.DISCOVER ? 'DISCOVER' : 'REQUEST'} captured`);
    const label = type === MessageType.DISCOVER ? 'discover' : 'request';
    writeFileSync(join(captureDir!, `${name}-${label}.hex`), `${first.bytes.toString('hex').replace(/(.{64})/g, '$1\n')}\n`);
  }
}

/** How each release's loader says it got as far as the kernel (there is none). */
const kernelAttempt: Record<FreebsdRelease, RegExp> = {
  '12.2': /BEPROBE loadelf returned|Failed to load kernel/,
  '10.1': /can't find 'kernel'|BEPROBE boot threw/,
};

describe.skipIf(peers.skip || !fixtures)('real FreeBSD loaders boot from be serve', () => {
  const lab = new PxeLab({ subnet: '8', mac: '52:54:00:be:08:01' });
  const reserved = '10.99.8.60';

  beforeAll(async () => {
    await lab.start();
    await lab.addFreebsdEnvironment('r122', '12.2');
    await lab.addFreebsdEnvironment('r101', '10.1');
  }, 600_000);

  afterAll(async () => {
    await lab.close();
  }, 120_000);

  const cases: [FreebsdRelease, Firmware, boolean][] = [
    ['12.2', 'bios', true],
    ['12.2', 'bios', false],
    ['12.2', 'uefi', true],
    ['12.2', 'uefi', false],
    ['10.1', 'bios', true],
    ['10.1', 'bios', false],
    ['10.1', 'uefi', true],
    ['10.1', 'uefi', false],
  ];

  it.each(cases)(
    "%s %s (reservation: %s): one address for firmware and loader, the BE's root, its handle, loaderEnv, up to the kernel",
    { timeout: bootTimeoutMs + 60_000 },
    async (release, firmware, withReservation) => {
      const be = release === '12.2' ? 'r122' : 'r101';
      const path = lab.beDirOf(be);
      await lab.startBe(be, {
        source: 'catalogue',
        host: { ...(withReservation ? { ip: reserved } : {}), loaderEnv: { 'be.probe': `probe-${lab.token}` } },
      });
      // BE_CAPTURE_DHCP=DIR records the loader's own DHCP requests as golden fixtures (test/fixtures/freebsd/README.md).
      const capture = captureDir && !withReservation ? await lab.captureOnBridge('udp dst port 67', 400) : undefined;
      const result = await lab.boot(firmware, bootTimeoutMs, { memoryMb: 512, serialConsole: true });
      if (capture) saveLoaderRequests(await capture.frames(2000), `${release}-${firmware}`);
      const log = lab.serverLog();
      const context = `serial console (last 4000 chars):\n${result.console.slice(-4000)}\nserver log (last 40 lines):\n${log.slice(-40).join('\n')}`;
      expect(result.timedOut, context).toBe(false);
      const env = probed(result.console);

      // Every address the DHCP server acknowledged to this MAC: the firmware's and the loader's are one.
      const acked = log
        .map((l) => JSON.parse(l) as { msg?: string; mac?: string; ip?: string })
        .filter((l) => l.msg === 'DHCPACK' && l.mac === lab.mac)
        .map((l) => l.ip);
      expect(acked.length, context).toBeGreaterThanOrEqual(2);
      expect(new Set(acked).size, context).toBe(1);
      if (withReservation) expect(acked[0], context).toBe(reserved);
      expect(env['boot.netif.ip'], context).toBe(acked[0]);

      expect(env['dhcp.root-path'], context).toBe(`${lab.server}:${path}`);
      expect(env['boot.nfsroot.path'], context).toBe(path);
      const handle = await lab.lan.run('server', ['node', beMain, 'nfshandle', path, '--server', lab.server, '--json']);
      expect(env['boot.nfsroot.nfshandle'], context).toBe((JSON.parse(String(handle.stdout)) as { handle: string }).handle);
      expect(env['be.probe'], context).toBe(`probe-${lab.token}`);
      expect(result.console, context).toMatch(kernelAttempt[release]);

      // be leases: one lease for the MAC.
      const leases = await lab.lan.run('server', ['node', beMain, '-c', lab.beConfig, 'leases', '--json']);
      const mine = (JSON.parse(String(leases.stdout)) as { mac: string | null; state: string }[]).filter((l) => l.mac === lab.mac);
      expect(mine, String(leases.stdout)).toHaveLength(1);
    },
  );
});
