/**
 * The PXE lab: one test LAN (a bridge in a switch namespace, a `server` namespace, a tap for QEMU),
 * a nested boot environment on zfs-fuse (`head`, `head/usr`, `head/var`, `head/var/log`, mounted under
 * the lab's directory), nfs-ganesha + rpcbind exporting every dataset over NFSv3 in the server
 * namespace, and a DHCP+TFTP server of the test's choice: dnsmasq (the reference) or `be serve`.
 *
 * The boot environment's boot/pxeboot and boot/loader.efi are iPXE scripts that load boot/vmlinuz and
 * boot/initrd.gz (test/e2e/guest.ts) from the same directory; its etc/fstab lists the nested datasets
 * as NFS mounts, which the guest mounts after its root. Markers unique to this lab sit in etc/ and in
 * the nested var/log, so a marker on the serial console proves the guest read the BE over NFS.
 *
 * Every process the lab starts in a namespace (QEMU, tcpdump, the servers) goes through the LAN's
 * tracked spawn, so close() undoes everything even after a failure: those processes by their PIDs and
 * the namespaces (Lan.closeAndWait), then the pool and zfs-fuse (ganesha's mount namespace holds
 * copies of the FUSE mounts, so the daemons stop first; see test/interop/be-nfs.test.ts), then the files.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { ZfsFuse } from '../be/zfs-fuse.js';
import { onBridge, startCapture, type Capture } from '../lan/capture.js';
import { LineWatcher } from '../lan/lines.js';
import { Lan } from '../lan/netns.js';
import { serveBe } from '../lan/serve.js';
import { NfsServer } from '../be/ganesha.js';
import { beMain } from '../cli/be.js';
import { buildGuest, consoleMarkers, markerFiles, type Guest } from './guest.js';
import { freebsdFixtures, type FreebsdRelease } from '../lan/freebsd.js';
import { candidate, extracted } from '../lan/debian.js';

export const labPeers = [
  'ip',
  'zfs-fuse',
  'zpool',
  'zfs',
  'ganesha.nfsd',
  'rpcbind',
  'rpcinfo',
  'dnsmasq',
  'qemu-system-x86_64',
  'apt-get',
  'dpkg',
  'cpio',
  'gzip',
  'xz',
];

export { beMain };

export type Firmware = 'bios' | 'uefi';

export { freebsdFixtures, type FreebsdRelease };

export const ovmfCode = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const ovmfVars = '/usr/share/OVMF/OVMF_VARS_4M.fd';

/** The datasets of the boot environment, parents first, relative to the BE. */
export const nestedDatasets = ['usr', 'var', 'var/log'] as const;

export interface BootResult {
  /** Everything QEMU's serial port printed. */
  console: string;
  rootMarker: string | undefined;
  nestedMarker: string | undefined;
  rootPath: string | undefined;
  /** NFS mounts the guest made from the BE's etc/fstab, as it counted them. */
  fstabMounts: number | undefined;
  /** Milliseconds from QEMU start to the nested marker on the console (for bench/, never asserted). */
  ms: number | undefined;
  exitCode: number | undefined;
  timedOut: boolean;
  /** Serial console lines with the milliseconds since QEMU's start when each was first seen (50 ms polling). */
  timeline: { ms: number; line: string }[];
}

export interface BootOptions {
  memoryMb?: number;
  /** SeaBIOS's text console copied to the serial port (BIOS only). */
  serialConsole?: boolean;
  /** QEMU's NIC model; default e1000 (the guest's initramfs has only the e1000 module). */
  nic?: 'e1000' | 'virtio-net-pci';
  /** The NIC's option ROM; '' for none, so under OVMF the firmware's own network stack drives the NIC instead of iPXE. Default: QEMU's (iPXE). */
  romfile?: string;
  /** Polled every 50 ms with the serial console so far while QEMU runs (also when nothing new came): once true, QEMU is killed by its PID (the boot went as far as the test needs). */
  stopWhen?: (console: string) => boolean;
  /** More arguments for QEMU (such as OVMF's `-fw_cfg name=opt/org.tianocore/...` switches). */
  qemuArgs?: string[];
}

export interface LabOptions {
  /** Third octet of 10.99.X.0/24. */
  subnet?: string;
  mac?: string;
  /**
   * Run an IPv6 router (dnsmasq sending router advertisements only: no DHCP, no DNS) in the server
   * namespace, as a real LAN has. iPXE's autoboot waits for IPv6 autoconfiguration as well as DHCP, about
   * 13 s when no advertisement comes; with one it goes on at once. Default true.
   */
  ipv6Router?: boolean;
}

// The iPXE script the boot environment serves as its loader. Relative names resolve against the
// script's own URI, so the kernel and initramfs come from the same boot/ directory over TFTP.
// console=ttyS0 puts the kernel and /init on QEMU's serial port (the kernel's lines show where a failed
// boot stopped); panic=1 with -no-reboot ends QEMU
// at once if /init dies. initrd=initrd.gz: under UEFI this iPXE (Debian's 2019 build) starts the kernel
// through its EFI stub, which finds the initramfs only when the command line names it (without it the
// kernel panics looking for a root device); under BIOS the kernel ignores the argument.
const ipxeScript = ipxeKernelScript('');

/** The port the lab's `be serve` listens on for HTTP when startBe() is given `http: true` (on the server's address). */
export const labHttpPort = 8080;

/**
 * The iPXE script that loads the kernel and initramfs from `base` (a URL prefix ending in `/`, or '' for
 * names relative to the script's own URI). The image names stay vmlinuz and initrd.gz whatever the
 * base (iPXE names an image by the last segment of its URI), so `initrd=initrd.gz` holds for every variant.
 */
export function ipxeKernelScript(base: string): string {
  return `#!ipxe
kernel ${base}vmlinuz initrd=initrd.gz console=ttyS0 panic=1
initrd ${base}initrd.gz
boot
`;
}

/**
 * The HTTP variants every boot environment of the lab holds beside its loaders, fetching the kernel and
 * initramfs over HTTP from be serve at the DHCP next-server (iPXE expands \${next-server} when it runs the
 * line): `boot/http.ipxe` by `/boot/...`, which be resolves to the client's own boot environment (a
 * PXE-bootable BE, the client known by its lease); `boot/http-named.ipxe` by `/NAME/boot/...`, which
 * also works when be serves the BEs by path from tftp.root (startBe's `source: 'root'`).
 */
export const httpScripts = { own: 'http.ipxe', named: 'http-named.ipxe' } as const;

/**
 * An EFI application for UEFI HTTP boot to fetch and start: iPXE from Debian's ipxe package, downloaded
 * and extracted once (test/lan/debian.ts). `ipxe.efi` brings its own NIC drivers; `snponly.efi` drives
 * the NIC through the firmware's SNP. (The package's /usr/lib/ipxe/ipxe.efi is an absolute link to /boot.)
 */
export function ipxeEfi(binary: 'ipxe.efi' | 'snponly.efi' = 'ipxe.efi'): string {
  const root = join(extracted('ipxe', candidate('ipxe')), 'root');
  return binary === 'ipxe.efi' ? join(root, 'boot', 'ipxe.efi') : join(root, 'usr', 'lib', 'ipxe', binary);
}

export class PxeLab {
  readonly dir: string;
  readonly pool: string;
  readonly mountDir: string;
  readonly beDir: string;
  readonly mac: string;
  readonly token = randomBytes(6).toString('hex');
  lan!: Lan;
  server = '';
  guest!: Guest;
  private zfs: ZfsFuse;
  private dhcpServer: { child: ResultPromise; out: LineWatcher } | undefined;
  private subnet: string;
  private ipv6Router: boolean;
  private closed = false;

  constructor(options: LabOptions = {}) {
    this.dir = `/tmp/be-e2e-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.pool = `bee2e${process.pid}`;
    this.mountDir = join(this.dir, 'ROOT');
    this.beDir = join(this.mountDir, 'head');
    this.mac = options.mac ?? '52:54:00:be:07:01';
    this.subnet = `10.99.${options.subnet ?? '7'}`;
    this.ipv6Router = options.ipv6Router ?? true;
    this.zfs = new ZfsFuse(this.dir, this.pool);
  }

  /** The markers of a boot environment: unique to this lab and to the BE. */
  markersOf(be: string) {
    return { root: `root-${this.token}-${be}`, nested: `nested-${this.token}-${be}` };
  }

  get markers() {
    return this.markersOf('head');
  }

  /** Where a boot environment's root is mounted on the server, and so its NFS path. */
  beDirOf(be: string): string {
    return join(this.mountDir, be);
  }

  /** The loader scripts, kernel, initramfs and markers of a mounted boot environment. */
  private writeBootFiles(be: string): void {
    const dir = this.beDirOf(be);
    for (const d of ['boot', 'etc']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'boot', 'pxeboot'), ipxeScript);
    writeFileSync(join(dir, 'boot', 'loader.efi'), ipxeScript);
    const http = `http://\${next-server}:${labHttpPort}`;
    writeFileSync(join(dir, 'boot', httpScripts.own), ipxeKernelScript(`${http}/boot/`));
    writeFileSync(join(dir, 'boot', httpScripts.named), ipxeKernelScript(`${http}/${be}/boot/`));
    copyFileSync(this.guest.kernel, join(dir, 'boot', 'vmlinuz'));
    copyFileSync(this.guest.initrd, join(dir, 'boot', 'initrd.gz'));
    writeFileSync(join(dir, markerFiles.root), `${this.markersOf(be).root}\n`);
    writeFileSync(join(dir, markerFiles.nested), `${this.markersOf(be).nested}\n`);
  }

  /** Builds the guest, the boot environment, the LAN and the NFS server. Minutes the first time (downloads), then about 10 s. */
  async start(): Promise<void> {
    this.guest = buildGuest();
    await this.zfs.start(); // waits for the machine-wide zfs-fuse lock (test/be/zfs-fuse.ts)
    const root = `${this.pool}/ROOT`;
    await this.zfsOk(['create', '-o', 'canmount=off', '-o', `mountpoint=${this.mountDir}`, root]);
    await this.zfsOk(['create', `${root}/head`]);
    for (const child of nestedDatasets) await this.zfsOk(['create', `${root}/head/${child}`]);

    this.lan = Lan.create({ hosts: ['server'], subnet: this.subnet });
    this.lan.addTap('tap0');
    this.server = this.lan.host('server').ip;

    // The boot environment's files; every dataset is mounted on the host before ganesha starts.
    const be = this.beDir;
    this.writeBootFiles('head');
    writeFileSync(
      join(be, 'etc', 'fstab'),
      `# written by test/e2e/lab.ts: the nested datasets, which NFSv3 does not cross into\n${nestedDatasets
        .map((c) => `${this.server}:${be}/${c}\t/${c}\tnfs\trw\t0\t0`)
        .join('\n')}\n`,
    );

    // Export ids from 1001 up, clear of the ones be numbers its generated exports with.
    this.manualExports = ['', ...nestedDatasets.map((c) => `/${c}`)]
      .map(
        (sub, i) =>
          `EXPORT {\n\tExport_Id = ${1001 + i};\n\tPath = "${be}${sub}";\n\tPseudo = "${be}${sub}";\n\tAccess_Type = RW;\n\tSquash = No_Root_Squash;\n\tProtocols = 3;\n\tTransports = TCP, UDP;\n\tFSAL { Name = VFS; }\n}\n`,
      )
      .join('');
    this.nfs = new NfsServer(this.lan, 'server', this.dir, this.server);
    await this.startGanesha();
    if (this.ipv6Router) await this.startIpv6Router();
  }

  private manualExports = '';
  private nfs: NfsServer | undefined;
  /** Where `be sharenfs` writes its ganesha exports (nfs.exportsFile). */
  get beExportsFile(): string {
    return join(this.dir, 'exports.ganesha');
  }

  /** (Re)starts ganesha with the hand-written exports of `head` and, once be has written them, be's own. */
  private async startGanesha(): Promise<void> {
    await this.nfs!.start(`${this.manualExports}${existsSync(this.beExportsFile) ? `%include "${this.beExportsFile}"\n` : ''}`);
  }

  /** Runs the compiled be command on the host (where the zfs-fuse mounts are), with the lab's settings. */
  async beCommand(args: string[]): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
    const result = await execa(
      'node',
      [
        beMain,
        ...args,
        '--set',
        'be.backend=zfs',
        '--set',
        `be.root=${this.pool}/ROOT`,
        '--set',
        `be.mountDir=${this.mountDir}`,
        '--set',
        `server.stateDir=${join(this.dir, 'state')}`,
        '--set',
        'nfs.format=ganesha',
        '--set',
        `nfs.exportsFile=${this.beExportsFile}`,
        '--set',
        `nfs.network=${this.subnet}.0/24`,
        '--set',
        'nfs.reload=[/bin/true]',
      ],
      { reject: false, stdin: 'ignore', timeout: 120_000 },
    );
    return { code: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  /**
   * A boot environment made the way an operator makes one: `be create` (the FreeBSD layout, 12
   * datasets), `be mount`, its files put in by `fill`, `be sharenfs --fstab` (be's ganesha exports and
   * the guest's etc/fstab), `be sharepxe` (PXE-bootable: its boot/ served over TFTP), then ganesha
   * restarted on the exports. Returns each command's result.
   */
  private async makeEnvironment(name: string, fill: (boot: string) => void) {
    const steps: Record<string, { code: number | undefined; stdout: string; stderr: string }> = {};
    const step = async (label: string, args: string[]) => {
      const result = await this.beCommand(args);
      steps[label] = result;
      if (result.code !== 0) throw new Error(`be ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
    };
    await step('create', ['create', '-l', 'freebsd', name]);
    await step('mount', ['mount', name]);
    fill(join(this.beDirOf(name), 'boot'));
    await step('sharenfs', ['sharenfs', name, '--fstab', '--server', this.server]);
    await step('sharepxe', ['sharepxe', name]);
    await this.startGanesha();
    return steps;
  }

  /** A second boot environment with the lab's iPXE-script loaders, kernel, initramfs and markers. */
  addBeMadeEnvironment(name: string) {
    return this.makeEnvironment(name, () => this.writeBootFiles(name));
  }

  /**
   * A boot environment holding a real FreeBSD release's /boot (../shared/freebsd: pxeboot, loader.efi,
   * their scripts, FreeBSD's COPYRIGHT beside them) and the probe scripts that make the loader print
   * `BEPROBE name=value` lines on the serial console, try the (missing) kernel and reboot.
   */
  addFreebsdEnvironment(name: string, release: FreebsdRelease) {
    return this.makeEnvironment(name, (boot) => {
      cpSync(join(freebsdFixtures, `${release}-RELEASE`, 'boot'), boot, { recursive: true });
      copyFileSync(join(freebsdFixtures, 'COPYRIGHT'), join(boot, 'COPYRIGHT'));
      const probe = join(freebsdFixtures, 'probe', release);
      copyFileSync(join(probe, 'loader.conf'), join(boot, 'loader.conf'));
      if (release === '12.2') copyFileSync(join(probe, 'local.lua'), join(boot, 'lua', 'local.lua'));
      else copyFileSync(join(probe, 'loader.rc'), join(boot, 'loader.rc'));
    });
  }

  /** dnsmasq as nothing but an IPv6 router: ra-only on a ULA prefix; DNS off (--port=0), no DHCPv4 range. */
  private async startIpv6Router(): Promise<void> {
    const prefix = `fd99:${this.subnet.split('.')[2]}::`;
    const added = await this.lan.run('server', ['ip', '-6', 'addr', 'add', `${prefix}1/64`, 'dev', 'eth0', 'nodad']);
    if (added.exitCode !== 0) throw new Error(`ip -6 addr add: ${added.stderr}`);
    const child = this.lan.spawn('server', [
      'dnsmasq',
      '--keep-in-foreground',
      '--log-facility=-',
      '--conf-file=/dev/null',
      '--port=0',
      '--user=root',
      '--interface=eth0',
      '--bind-interfaces',
      `--pid-file=${join(this.dir, 'radvd.pid')}`,
      '--dhcp-leasefile=/dev/null',
      '--enable-ra',
      `--dhcp-range=${prefix},ra-only,64,1h`,
    ]);
    const out = new LineWatcher(child.stderr);
    await out.next(/router advertisement on/, 15_000).catch((err: Error) => {
      throw new Error(`dnsmasq as IPv6 router: ${err.message}`);
    });
  }

  private async zfsOk(args: string[]): Promise<void> {
    const result = await this.zfs.zfs(args);
    if (result.exitCode !== 0) throw new Error(`zfs ${args.join(' ')}: ${result.stderr}`);
  }

  /** The reference server: dnsmasq as DHCP (with the root-path) and TFTP, as TESTLAB.md ran it. */
  async startDnsmasq(be = 'head'): Promise<void> {
    await this.stopDhcpServer();
    const leases = join(this.dir, 'dnsmasq.leases');
    rmSync(leases, { force: true });
    const child = this.lan.spawn('server', [
      'dnsmasq',
      '--keep-in-foreground',
      '--log-facility=-',
      '--log-dhcp',
      '--conf-file=/dev/null',
      '--port=0',
      '--user=root',
      '--interface=eth0',
      '--bind-interfaces',
      '--no-ping',
      `--dhcp-leasefile=${leases}`,
      `--pid-file=${join(this.dir, 'dnsmasq.pid')}`,
      `--dhcp-range=${this.subnet}.100,${this.subnet}.120,255.255.255.0,1h`,
      `--dhcp-option=option:router,${this.server}`,
      `--dhcp-option=option:root-path,${this.server}:${this.beDirOf(be)}`,
      // Option 93: 7 and 9 are both EFI x64 (RFC 4578 erratum); everything else gets the BIOS loader.
      '--dhcp-match=set:efi64,option:client-arch,7',
      '--dhcp-match=set:efi64,option:client-arch,9',
      `--dhcp-boot=tag:efi64,${be}/boot/loader.efi`,
      `--dhcp-boot=tag:!efi64,${be}/boot/pxeboot`,
      '--enable-tftp',
      `--tftp-root=${this.mountDir}`,
    ]);
    const out = new LineWatcher(child.stderr);
    this.dhcpServer = { child, out };
    await out.next(/TFTP root is/, 15_000);
  }

  /**
   * be serve: authoritative DHCP with a host entry for the QEMU MAC, and TFTP. `source: 'root'`: tftp.root
   * is the directory the BEs are mounted under (the BE's files by path, as dnsmasq serves them);
   * `source: 'catalogue'`: be's own per-host boot environments (be.backend zfs, the BE made PXE-bootable
   * by `be sharepxe`, root-path from where it is mounted, only its boot/ served; tftp.root an empty default).
   */
  async startBe(
    be = 'head',
    options: {
      source?: 'root' | 'catalogue';
      services?: string;
      extra?: string[];
      /** Also the http service, on the server's address and labHttpPort (and so dhcp.httpBaseUrl's default: UEFI HTTP boot clients are sent there). */
      http?: boolean;
      host?: { ip?: string; loaderEnv?: Record<string, string>; ipxeScript?: string };
    } = {},
  ): Promise<void> {
    await this.stopDhcpServer();
    const catalogue = options.source === 'catalogue';
    const defaultRoot = join(this.dir, 'tftp-default');
    mkdirSync(defaultRoot, { recursive: true });
    const yaml = `server: { address: ${this.server}, stateDir: ${join(this.dir, 'state')} }
${
  catalogue
    ? `tftp: { root: ${defaultRoot} }
be: { backend: zfs, root: ${this.pool}/ROOT, mountDir: ${this.mountDir} }`
    : `tftp: { root: ${this.mountDir} }
be: { backend: dir, root: ${this.mountDir} }`
}
dhcp:
  mode: authoritative
  interface: eth0
  range: { start: ${this.subnet}.100, end: ${this.subnet}.120 }
  router: ${this.server}
  leaseFile: ${join(this.dir, 'be.leases')}
hosts:
  - name: vm
    mac: ${this.mac}
    be: ${be}
${options.host?.ip ? `    ip: ${options.host.ip}\n` : ''}${options.host?.loaderEnv ? `    loaderEnv: ${JSON.stringify(options.host.loaderEnv)}\n` : ''}${
  options.host?.ipxeScript ? `    ipxeScript: ${JSON.stringify(options.host.ipxeScript)}\n` : ''
}${options.http ? `http: { enabled: true, address: ${this.server}, port: ${labHttpPort} }\n` : ''}`;
    rmSync(join(this.dir, 'be.leases'), { force: true });
    const { child, out } = await serveBe(this.lan, 'server', {
      config: { file: this.beConfig, yaml },
      only: options.services ?? (options.http ? 'tftp,dhcp,http' : 'tftp,dhcp'),
      args: options.extra ?? [],
      timeoutMs: 30_000,
    });
    this.dhcpServer = { child, out };
  }

  /** The configuration file startBe() wrote, for be commands that talk to the running appliance. */
  get beConfig(): string {
    return join(this.dir, 'be.yaml');
  }

  /**
   * tcpdump on the bridge itself (the switch namespace's br0), so it sees what crosses the LAN whoever
   * sent it. Resolves once tcpdump listens; frames() waits for `count` frames or the timeout.
   */
  captureOnBridge(filter: string, count: number): Promise<Capture> {
    return startCapture(this.lan, onBridge(this.lan), filter, count);
  }

  /**
   * tcpdump on the server's own interface (eth0 in the server namespace): what reaches or leaves the
   * server. Resolves once tcpdump listens; frames() waits for `count` frames or the timeout.
   */
  captureOnServer(filter: string, count: number): Promise<Capture> {
    return startCapture(this.lan, 'server', filter, count);
  }

  /** Lines the running DHCP/TFTP server has logged (dnsmasq: stderr; be: JSON lines on stdout). */
  serverLog(): string[] {
    return this.dhcpServer?.out.lines ?? [];
  }

  async stopDhcpServer(): Promise<void> {
    const server = this.dhcpServer;
    this.dhcpServer = undefined;
    if (!server) return;
    if (server.child.pid !== undefined) {
      try {
        process.kill(server.child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await server.child;
  }

  /**
   * Powers on QEMU (TCG, e1000 on the tap, network boot first) and waits until the guest powers off,
   * QEMU exits, or timeoutMs passes (then QEMU is killed by its PID).
   */
  async boot(firmware: Firmware, timeoutMs = 150_000, options: BootOptions = {}): Promise<BootResult> {
    const tag = `${firmware}-${randomBytes(3).toString('hex')}`;
    const serial = join(this.dir, `serial-${tag}.log`);
    const args = [
      '-accel',
      'tcg',
      '-boot',
      'n',
      '-no-reboot',
      '-display',
      'none',
      '-monitor',
      'none',
      '-serial',
      `file:${serial}`,
      '-netdev',
      'tap,id=n0,ifname=tap0,script=no,downscript=no',
      '-device',
      `${options.nic ?? 'e1000'},netdev=n0,mac=${this.mac},bootindex=1${options.romfile === undefined ? '' : `,romfile=${options.romfile}`}`,
    ];
    if (firmware === 'bios') {
      args.push('-m', String(options.memoryMb ?? 256));
      // SeaBIOS copies the text console (iPXE, BTX, the loader before it switches to comconsole) to COM1 (RECIPES.md).
      if (options.serialConsole) args.push('-fw_cfg', `name=etc/sercon-port,file=${join(freebsdFixtures, 'probe', 'sercon-port.bin')}`);
    } else {
      const vars = join(this.dir, `vars-${tag}.fd`);
      copyFileSync(ovmfVars, vars);
      args.push(
        '-machine',
        'q35',
        '-m',
        String(options.memoryMb ?? 512),
        '-drive',
        `if=pflash,format=raw,unit=0,readonly=on,file=${ovmfCode}`,
        '-drive',
        `if=pflash,format=raw,unit=1,file=${vars}`,
      );
    }
    args.push(...(options.qemuArgs ?? []));
    const started = performance.now();
    const qemu = this.lan.spawnSwitch(['qemu-system-x86_64', ...args]);
    let nestedAt: number | undefined;
    const timeline: { ms: number; line: string }[] = [];
    let seen = 0;
    let stopped = false;
    const poll = setInterval(() => {
      if (!existsSync(serial)) return;
      const text = readFileSync(serial, 'latin1');
      const end = text.lastIndexOf('\n');
      if (end >= seen) {
        const now = performance.now() - started;
        for (const line of text.slice(seen, end).replace(/\r/g, '').split('\n')) if (line.trim()) timeline.push({ ms: Math.round(now), line });
        seen = end + 1;
      }
      // Asked on every poll, not only when a new line came: the condition may be outside the console (a capture, be's log).
      if (nestedAt === undefined && text.includes(consoleMarkers.nested)) nestedAt = performance.now();
      if (!stopped && options.stopWhen?.(text) && qemu.pid !== undefined) {
        stopped = true;
        process.kill(qemu.pid, 'SIGKILL');
      }
    }, 50);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (qemu.pid !== undefined) process.kill(qemu.pid, 'SIGKILL');
    }, timeoutMs);
    const result = await qemu;
    clearTimeout(timer);
    clearInterval(poll);
    const text = existsSync(serial) ? readFileSync(serial, 'latin1').replace(/\r/g, '') : '';
    if (nestedAt === undefined && text.includes(consoleMarkers.nested)) nestedAt = performance.now();
    const line = (prefix: string) => {
      const at = text.lastIndexOf(`\n${prefix}`);
      return at < 0
        ? undefined
        : text
            .slice(at + 1 + prefix.length)
            .split('\n')[0]!
            .trim();
    };
    return {
      console: text,
      rootMarker: line(consoleMarkers.root),
      nestedMarker: line(consoleMarkers.nested),
      rootPath: line(consoleMarkers.rootPath),
      fstabMounts: line(consoleMarkers.fstabMounts) === undefined ? undefined : Number(line(consoleMarkers.fstabMounts)),
      ms: nestedAt === undefined ? undefined : nestedAt - started,
      exitCode: result.exitCode,
      timedOut,
      timeline,
    };
  }

  /** Everything down, in order; safe to call twice and after a failed start(). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lan?.closeAndWait();
    try {
      await this.zfs.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
