/**
 * PXE end to end on real firmware: QEMU (TCG, e1000 on a tap in the test bridge) runs the iPXE in its
 * NIC ROM, takes DHCP, fetches the boot environment's loader (an iPXE script standing in for FreeBSD's
 * pxeboot / loader.efi, which cannot be downloaded here) over TFTP, then a Debian kernel and initramfs
 * (test/e2e/guest.ts); the guest takes DHCP again asking for the root path, mounts the BE's root and its
 * nested datasets over NFSv3 from nfs-ganesha serving zfs-fuse, and prints markers that exist only
 * inside the BE. The assertions are on those markers as read over the serial console.
 *
 * First with the reference servers of TESTLAB.md (dnsmasq as DHCP+TFTP), so a failure with be's own
 * servers is be's; then with `be serve` (authoritative DHCP + TFTP) in dnsmasq's place; last with be
 * serve's http service: iPXE given a script by URL that fetches the kernel and initramfs over HTTP, and
 * OVMF's own UEFI HTTP boot (no iPXE ROM on the NIC) fetching an EFI binary (Debian's ipxe.efi) from the
 * URL be's DHCP hands out; then OVMF's own UEFI PXE fetching the same binary over TFTP from be's
 * authoritative offer (and, with be's option 43 overridden, the BINL detour to port 4011 it used to take).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needPeers } from '../lan/peers.js';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineWatcher } from '../lan/lines.js';
import { consoleMarkers } from './guest.js';
import { decodePacket, getOption, getRaw, messageTypeName } from '../../src/dhcp/packet.js';
import { bytesToHex } from '../../src/dhcp/options.js';
import type { Frame } from '../lan/pcap.js';
import { beMain, httpScripts, ipxeEfi, labHttpPort, labPeers, nestedDatasets, PxeLab, type BootOptions, type BootResult } from './lab.js';

const peers = needPeers('PXE end to end in QEMU', [...labPeers, 'tcpdump'], { root: true });

/**
 * A boot under TCG takes 15-55 s here (more when other suites load the machine); the bound is generous
 * so a busy CI machine is not a failure, and a real hang still ends.
 */
const bootTimeoutMs = 300_000;

describe.skipIf(peers.skip)('PXE end to end: QEMU firmware → DHCP → TFTP → Linux guest with an NFS root from zfs-fuse', () => {
  const lab = new PxeLab({ subnet: '7' });

  beforeAll(async () => {
    await lab.start();
  }, 600_000);

  afterAll(async () => {
    await lab.close();
  }, 120_000);

  function expectBooted(result: BootResult, log: string[], be = 'head', mounts: number = nestedDatasets.length): void {
    const context = `serial console (last 3000 chars):\n${result.console.slice(-3000)}\nserver log (last 40 lines):\n${log.slice(-40).join('\n')}`;
    expect(result.timedOut, context).toBe(false);
    expect(result.rootPath, context).toBe(`${lab.server}:${lab.beDirOf(be)}`);
    expect(result.fstabMounts, context).toBe(mounts);
    expect(result.rootMarker, context).toBe(lab.markersOf(be).root);
    expect(result.nestedMarker, context).toBe(lab.markersOf(be).nested);
  }

  describe('reference servers (dnsmasq DHCP+TFTP, nfs-ganesha)', () => {
    beforeAll(async () => {
      await lab.startDnsmasq();
    }, 60_000);

    it('BIOS: iPXE boots the BE and the guest reads both markers over NFS', { timeout: bootTimeoutMs + 30_000 }, async () => {
      const result = await lab.boot('bios', bootTimeoutMs);
      expectBooted(result, lab.serverLog());
    });

    it('UEFI (OVMF, q35): the same boot through loader.efi', { timeout: bootTimeoutMs + 30_000 }, async () => {
      const result = await lab.boot('uefi', bootTimeoutMs);
      expectBooted(result, lab.serverLog());
    });
  });

  describe("be serve (authoritative DHCP + TFTP) in dnsmasq's place", () => {
    beforeAll(async () => {
      await lab.startBe();
    }, 60_000);

    it('BIOS: our DHCP and TFTP boot the BE; the guest reads both markers over NFS', { timeout: bootTimeoutMs + 30_000 }, async () => {
      const result = await lab.boot('bios', bootTimeoutMs);
      expectBooted(result, lab.serverLog());
      const served = lab
        .serverLog()
        .filter((l) => l.includes('"msg":"transfer complete"'))
        .map((l) => JSON.parse(l).file as string);
      expect(served).toEqual(expect.arrayContaining(['head/boot/pxeboot', 'head/boot/vmlinuz', 'head/boot/initrd.gz']));
    });

    it("UEFI (OVMF, q35): our DHCP answers arch 7 with the BE's loader.efi; the guest reads both markers", { timeout: bootTimeoutMs + 30_000 }, async () => {
      const result = await lab.boot('uefi', bootTimeoutMs);
      expectBooted(result, lab.serverLog());
      const served = lab
        .serverLog()
        .filter((l) => l.includes('"msg":"transfer complete"'))
        .map((l) => JSON.parse(l).file as string);
      expect(served).toContain('head/boot/loader.efi');
    });

    it("BIOS: a BE made by be create -l freebsd, be mount, be sharenfs --fstab and be sharepxe boots through be's per-host boot environments", {
      timeout: bootTimeoutMs + 150_000,
    }, async () => {
      const steps = await lab.addBeMadeEnvironment('stable');
      expect(steps.create!.stdout).toBe(`created ${lab.pool}/ROOT/stable (12 datasets)`);
      const fstab = readFileSync(join(lab.beDirOf('stable'), 'etc', 'fstab'), 'utf8');
      const nfsLines = fstab.split('\n').filter((l) => /\tnfs\t/.test(l));
      expect(nfsLines).toHaveLength(11);
      expect(nfsLines).toContain(`${lab.server}:${lab.beDirOf('stable')}/var/log\t/var/log\tnfs\trw\t0\t0`);
      // No tftp.root over the BEs this time: be finds the host's BE, serves its boot/ and builds the
      // root-path from where it is mounted.
      await lab.startBe('stable', { source: 'catalogue' });
      const result = await lab.boot('bios', bootTimeoutMs);
      expectBooted(result, lab.serverLog(), 'stable', 11);
      const served = lab
        .serverLog()
        .filter((l) => l.includes('"msg":"transfer complete"'))
        .map((l) => JSON.parse(l).file as string);
      expect(served).toEqual(expect.arrayContaining(['stable/boot/pxeboot', 'stable/boot/vmlinuz', 'stable/boot/initrd.gz']));
    });

    it('be bootpxe --wake --follow: the magic packet crosses the bridge, then the boot shows step by step', { timeout: bootTimeoutMs + 90_000 }, async () => {
      await lab.startBe('stable', { source: 'catalogue', services: 'tftp,dhcp,control' });
      const wol = await lab.captureOnBridge('udp port 9', 1);
      const follow = lab.lan.spawn('server', [
        'node',
        beMain,
        '-c',
        lab.beConfig,
        'bootpxe',
        'stable',
        '--host',
        'vm',
        '--wake',
        '--follow',
        '--timeout',
        String(bootTimeoutMs / 1000),
      ]);
      const out = new LineWatcher(follow.stdout);
      const [magic] = await wol.frames(30_000);
      const mac = Buffer.from(lab.mac.split(':').map((h) => parseInt(h, 16)));
      expect(magic?.udp?.payload).toEqual(Buffer.concat([Buffer.alloc(6, 0xff), ...new Array<Buffer>(16).fill(mac)]));
      await out.next(/^magic packet for vm/);

      // QEMU has no wake-on-LAN power-on: the test powers the machine on once the packet was seen.
      const result = await lab.boot('bios', bootTimeoutMs);
      expectBooted(result, lab.serverLog(), 'stable', 11);
      const followed = await follow;
      expect(followed.exitCode, String(followed.stderr)).toBe(0);
      const steps = String(followed.stdout)
        .split('\n')
        .filter((l) => /^vm \+/.test(l))
        .map((l) => l.replace(/^vm \+ *[\d.]+ s {2}/, '').replace(/ +/g, ' '));
      expect(steps).toEqual([
        'Wake-on-LAN sent',
        'firmware DHCP stable/boot/pxeboot',
        'loader fetched stable/boot/pxeboot',
        'kernel fetched stable/boot/vmlinuz',
      ]);
    });

    // The guest's own DHCP (udhcpc asking for the root path, a "plain" client to the policy) is the
    // step that hands out the root: it must not
    // count as a new firmware DHCP, which would start a new boot and lose this one.
    it("be status vm still shows that whole boot after the guest's own DHCP", async () => {
      const status = await lab.lan.run('server', ['node', beMain, '-c', lab.beConfig, 'status', 'vm', '--json']);
      const events = (JSON.parse(String(status.stdout)) as { events: { step: string; detail?: string }[] }).events;
      expect(
        events.slice(0, 4).map((e) => (e.step === 'wol' ? ['wol'] : [e.step, e.detail])),
        String(status.stdout),
      ).toEqual([['wol'], ['firmware-dhcp', 'stable/boot/pxeboot'], ['loader-fetched', 'stable/boot/pxeboot'], ['kernel-fetched', 'stable/boot/vmlinuz']]);
      expect(events[4]).toMatchObject({ step: 'loader-dhcp', detail: expect.stringMatching(/^10\.\d+\.\d+\.\d+:\/.*stable$/) });
    });

    /** be's JSON log lines with this msg, as {svc, file} (the http service logs "download complete", tftp "transfer complete"). */
    const downloads = (msg: string) =>
      lab
        .serverLog()
        .filter((l) => l.includes(`"msg":"${msg}"`))
        .map((l) => JSON.parse(l) as { svc: string; file: string; bytes: number });

    it("BIOS: iPXE runs a script fetched by URL over HTTP that loads the kernel and initramfs over HTTP from be serve's /boot/ (the host's own BE); nothing over TFTP", {
      timeout: bootTimeoutMs + 60_000,
    }, async () => {
      // /boot/... is the client's own BE, found by the lease be's DHCP just gave it (test/e2e/lab.ts httpScripts).
      const script = `http://${lab.server}:${labHttpPort}/boot/${httpScripts.own}`;
      await lab.startBe('stable', { source: 'catalogue', http: true, services: 'tftp,dhcp,http,control', host: { ipxeScript: script } });
      const result = await lab.boot('bios', bootTimeoutMs);
      expectBooted(result, lab.serverLog(), 'stable', 11);
      const overHttp = downloads('download complete');
      expect(overHttp.map((d) => [d.svc, d.file])).toEqual([
        ['http', `boot/${httpScripts.own}`],
        ['http', 'boot/vmlinuz'],
        ['http', 'boot/initrd.gz'],
      ]);
      expect(overHttp[1]!.bytes).toBe(statSync(lab.guest.kernel).size);
      expect(overHttp[2]!.bytes).toBe(statSync(lab.guest.initrd).size);
      expect(downloads('transfer complete').map((d) => d.file)).toEqual([]);
      const dhcp = lab.serverLog().find((l) => l.includes('"msg":"DHCPACK"') && l.includes('iPXE: host script'));
      expect(dhcp, lab.serverLog().join('\n')).toBeDefined();

      const status = await lab.lan.run('server', ['node', beMain, '-c', lab.beConfig, 'status', 'vm', '--json']);
      const events = (JSON.parse(String(status.stdout)) as { events: { step: string; detail?: string; protocol?: string }[] }).events;
      // This boot's steps: the firmware's DHCP (its boot file the script's URL), the kernel over HTTP, the
      // guest's own DHCP for the root; the script itself is not a step, and nothing was fetched over TFTP.
      expect(events[0], String(status.stdout)).toMatchObject({ step: 'firmware-dhcp', detail: script });
      expect(
        events.filter((e) => e.step.endsWith('-fetched')),
        String(status.stdout),
      ).toEqual([expect.objectContaining({ step: 'kernel-fetched', detail: 'boot/vmlinuz', protocol: 'http' })]);
      expect(events.at(-1), String(status.stdout)).toMatchObject({ step: 'loader-dhcp' });
      const text = await lab.lan.run('server', ['node', beMain, '-c', lab.beConfig, 'status', 'vm']);
      expect(String(text.stdout)).toMatch(/kernel fetched +boot\/vmlinuz \(HTTP\)/);
    });

    // OVMF's own network stack (virtio-net with no option ROM, so no iPXE): its UEFI HTTP boot sends
    // option 60 HTTPClient:Arch:00016 and fetches the URL be's DHCP gives (dhcp.httpBaseUrl's default,
    // the http service). Its PXE boot options come first in OVMF's boot order and are switched off
    // through fw_cfg, so the firmware goes on to HTTP boot (PXEv4 itself boots from be: the tests after this one);
    // the EFI binary served as the BE's loader.efi is Debian's ipxe.efi, which takes DHCP again as iPXE,
    // gets the host's script and loads the kernel and initramfs over HTTP. The guest's initramfs has no
    // virtio-net driver, so the boot ends once the kernel runs.
    it("UEFI HTTP boot (OVMF, virtio-net without iPXE): OVMF fetches the BE's loader.efi from be's URL over HTTP and runs it; it loads the kernel over HTTP", {
      timeout: bootTimeoutMs + 60_000,
    }, async () => {
      const loader = join(lab.beDirOf('stable'), 'boot', 'loader.efi');
      const saved = readFileSync(loader);
      const efi = ipxeEfi();
      copyFileSync(efi, loader);
      try {
        const script = `http://${lab.server}:${labHttpPort}/boot/${httpScripts.own}`;
        await lab.startBe('stable', { source: 'catalogue', http: true, host: { ipxeScript: script } });
        const initrdFetched = () => downloads('download complete').some((d) => d.file === 'boot/initrd.gz');
        const result = await lab.boot('uefi', bootTimeoutMs, {
          nic: 'virtio-net-pci',
          romfile: '',
          qemuArgs: ['-fw_cfg', 'name=opt/org.tianocore/IPv4PXESupport,string=n', '-fw_cfg', 'name=opt/org.tianocore/IPv6PXESupport,string=n'],
          stopWhen: (console) => initrdFetched() && (console.includes('Linux version') || console.includes(consoleMarkers.failed)),
        });
        const context = `serial console (last 3000 chars):\n${result.console.slice(-3000)}\nserver log:\n${lab.serverLog().join('\n')}`;
        expect(result.timedOut, context).toBe(false);
        const url = `http://${lab.server}:${labHttpPort}/stable/boot/loader.efi`;
        expect(result.console, context).toContain('Start HTTP Boot over IPv4');
        expect(result.console, context).toContain(`URI: ${url}`);
        const acks = lab
          .serverLog()
          .filter((l) => l.includes('"msg":"DHCPACK"'))
          .map((l) => (JSON.parse(l) as { boot: string }).boot);
        expect(acks.slice(0, 2), context).toEqual(['HTTP boot, HTTP x64', 'iPXE: host script']);
        const overHttp = downloads('download complete');
        expect(
          overHttp.map((d) => [d.file, d.bytes]),
          context,
        ).toEqual([
          ['stable/boot/loader.efi', statSync(efi).size],
          [`boot/${httpScripts.own}`, expect.any(Number)],
          ['boot/vmlinuz', statSync(lab.guest.kernel).size],
          ['boot/initrd.gz', statSync(lab.guest.initrd).size],
        ]);
        expect(downloads('transfer complete'), context).toEqual([]);
        expect(result.console, context).toContain('Linux version');
      } finally {
        writeFileSync(loader, saved);
      }
    });

    // OVMF's own UEFI PXE (edk2's UefiPxeBcDxe, what a UEFI PC without an iPXE ROM runs): virtio-net with no
    // option ROM, PXEv4 on, PXEv6 off (this OVMF, Debian's 2022.11, has no fw_cfg switch for HTTP boot, which
    // comes after PXEv4 in its boot order anyway). edk2 classes a DHCP offer that says PXEClient by its option
    // 43: with PXE_DISCOVERY_CONTROL it is a "PXE10" offer, whose boot file it loads; without discovery
    // control it is a "BINL" offer, and the firmware asks SERVER:4011 for the boot file instead (four tries,
    // PxeBcRetryBinlOffer), which nothing answers in authoritative mode. be's replies carry 43 = 06 01 08 ff.
    // The BE's loader.efi is Debian's ipxe.efi, as in the HTTP-boot test: iPXE's banner on the console shows
    // the firmware started what it fetched; iPXE then takes DHCP again and loads the kernel over HTTP.
    // The BE is `stable` from be's catalogue, as in the tests before (be bootpxe assigned vm to it, and
    // that assignment, kept in be's state, overrides hosts[].be).
    describe("OVMF's own UEFI PXE (virtio-net without iPXE, PXEv4)", () => {
      const pxeQemu: BootOptions = {
        nic: 'virtio-net-pci',
        romfile: '',
        qemuArgs: ['-fw_cfg', 'name=opt/org.tianocore/IPv6PXESupport,string=n'],
      };
      const loader = join(lab.beDirOf('stable'), 'boot', 'loader.efi');
      let saved: Buffer | undefined;
      const efi = () => ipxeEfi();

      beforeAll(() => {
        saved = readFileSync(loader);
        copyFileSync(efi(), loader);
      });
      afterAll(() => {
        if (saved) writeFileSync(loader, saved);
      });

      /** OVMF's last boot option, reached when every network boot failed: the boot is over. */
      const shell = 'EFI Internal Shell';
      /** DHCP and PXE boot-server traffic on the server's interface, for as long as the boot runs. */
      const captureDhcp = () => lab.captureOnServer('udp and (port 67 or port 68 or port 4011)', 10_000);
      /** be's replies on the wire (OFFER and ACK), as [message type, option 60, option 43 in hex]. */
      const replies = (frames: Frame[]) =>
        frames
          .filter((f) => f.udp?.srcPort === 67)
          .map((f) => decodePacket(f.udp!.payload))
          .map((p) => [messageTypeName(getOption(p, 'messageType')), getOption(p, 'vendorClass'), bytesToHex(getRaw(p, 43) ?? new Uint8Array())]);

      it("loads the BE's loader.efi over TFTP from be's authoritative offer and starts it; nothing is sent to port 4011", {
        timeout: bootTimeoutMs + 60_000,
      }, async () => {
        const script = `http://${lab.server}:${labHttpPort}/boot/${httpScripts.own}`;
        await lab.startBe('stable', { source: 'catalogue', http: true, host: { ipxeScript: script } });
        const capture = await captureDhcp();
        const initrdFetched = () => downloads('download complete').some((d) => d.file === 'boot/initrd.gz');
        const result = await lab.boot('uefi', bootTimeoutMs, {
          ...pxeQemu,
          stopWhen: (console) => (initrdFetched() && (console.includes('Linux version') || console.includes(consoleMarkers.failed))) || console.includes(shell),
        });
        const frames = await capture.frames(2_000);
        const context = `serial console (last 3000 chars):\n${result.console.slice(-3000)}\nserver log:\n${lab.serverLog().join('\n')}`;
        expect(result.timedOut, context).toBe(false);
        expect(result.console, context).toContain('NBP file downloaded successfully.');
        expect(result.console, context).toContain('Start PXE over IPv4');
        expect(result.console, context).not.toContain('PXE-E16');
        // The firmware's exchange (the first two replies): PXEClient with PXE_DISCOVERY_CONTROL bit 3.
        expect(replies(frames).slice(0, 2), context).toEqual([
          ['OFFER', 'PXEClient', '060108ff'],
          ['ACK', 'PXEClient', '060108ff'],
        ]);
        const overTftp = downloads('transfer complete');
        expect(
          overTftp.map((d) => [d.svc, d.file, d.bytes]),
          context,
        ).toEqual([['tftp', 'stable/boot/loader.efi', statSync(efi()).size]]);
        expect(result.console, context).toMatch(/iPXE \S+ -- Open Source Network Boot Firmware/);
        const acks = lab
          .serverLog()
          .filter((l) => l.includes('"msg":"DHCPACK"'))
          .map((l) => (JSON.parse(l) as { boot: string }).boot);
        expect(acks.slice(0, 2), context).toEqual([expect.stringMatching(/^PXE firmware, .+: loader of stable$/), 'iPXE: host script']);
        expect(
          downloads('download complete').map((d) => [d.file, d.bytes]),
          context,
        ).toEqual([
          [`boot/${httpScripts.own}`, expect.any(Number)],
          ['boot/vmlinuz', statSync(lab.guest.kernel).size],
          ['boot/initrd.gz', statSync(lab.guest.initrd).size],
        ]);
        expect(result.console, context).toContain('Linux version');
        // The capture saw the firmware's DHCP (so it was listening on the right interface), and no boot-server request.
        const dhcp = frames.filter((f) => f.udp?.dstPort === 67);
        expect(dhcp.length, context).toBeGreaterThan(0);
        expect(frames.filter((f) => f.udp?.dstPort === 4011 || f.udp?.srcPort === 4011)).toEqual([]);
      });

      it('the defect it fixes: with option 43 lacking discovery control (dhcp.options vendorSpecific: ff), the firmware asks port 4011 and gives up', {
        timeout: 180_000,
      }, async () => {
        await lab.startBe('stable', { source: 'catalogue', extra: ['--set', 'dhcp.options.vendorSpecific=ff'] });
        const capture = await captureDhcp();
        const result = await lab.boot('uefi', 150_000, { ...pxeQemu, stopWhen: (console) => console.includes('PXE-E16') || console.includes(shell) });
        const frames = await capture.frames(2_000);
        const context = `serial console (last 3000 chars):\n${result.console.slice(-3000)}\nserver log:\n${lab.serverLog().join('\n')}`;
        expect(result.timedOut, context).toBe(false);
        // The firmware's PXE exchange. (After PXE-E16 OVMF goes on to HTTP boot, whose DISCOVER be may
        // answer before QEMU is stopped: those replies are not PXE's.)
        expect(replies(frames).slice(0, 2), context).toEqual([
          ['OFFER', 'PXEClient', 'ff'],
          ['ACK', 'PXEClient', 'ff'],
        ]);
        const ack = lab.serverLog().find((l) => l.includes('"msg":"DHCPACK"'));
        expect((JSON.parse(ack ?? '{}') as { boot?: string }).boot, context).toBe('PXE firmware, EFI x64: loader of stable');
        // PxeBcRetryBinlOffer: PXEBC_BOOT_REQUEST_RETRIES (4) unanswered requests from the address it was
        // just given to SERVER:4011, then the offer counts as invalid.
        const binl = frames.filter((f) => f.udp?.dstPort === 4011).map((f) => `${f.udp!.srcIp} > ${f.udp!.dstIp}:${f.udp!.dstPort}`);
        const given = decodePacket(frames.find((f) => f.udp?.srcPort === 67)!.udp!.payload).yiaddr;
        expect(binl, context).toEqual(new Array(4).fill(`${given} > ${lab.server}:4011`));
        expect(result.console, context).toContain('PXE-E16: No valid offer received');
        expect(downloads('transfer complete'), context).toEqual([]);
      });
    });
  });
});
