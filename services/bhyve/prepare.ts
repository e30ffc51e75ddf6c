/**
 * Everything `be bootnfs` does before bhyveload: make sure the boot environment is mounted and shared
 * (with the guest's fstab for its nested datasets written into it), read its release, get the NFS
 * handle the guest's kernel will use (the loader's own MOUNT v3 call, or nfs.handleCommand), and
 * turn the settings into a validated GuestSpec. With dryRun nothing is changed: the BE must already
 * be mounted and shared, and the commands that would set up the tap are returned, not run.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkGuestSettings, checkHandle, type GuestSpec } from '../../src/bhyve/guest.js';
import { capabilitiesOf, parseFreebsdVersionScript, parseKernelVersion, parseRelease, type Release } from '../../src/bhyve/release.js';
import type { GuestSettings } from '../../src/bhyve/settings.js';
import type { Config } from '../../src/config/schema.js';
import { BeError } from '../../src/errors.js';
import { isIPv4 } from '../../src/net.js';
import { BeOps } from '../be/ops.js';
import { loadState } from '../be/state.js';
import { handleFor, type HandleOptions } from '../nfs/handle.js';
import { run } from '../os.js';

export interface PreparedGuest {
  spec: GuestSpec;
  release: Release;
  /** Commands that create the tap and add it to the bridge (empty without a bridge). */
  network: string[][];
}

export interface PrepareOptions {
  dryRun?: boolean;
  /** The NFS server address the guest uses; default server.address. */
  server?: string;
  rpc?: HandleOptions;
  signal?: AbortSignal;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The release a BE holds: bin/freebsd-version (10.0 and later), else the kernel's version string. */
export async function readRelease(root: string): Promise<Release | undefined> {
  const script = await readFile(join(root, 'bin', 'freebsd-version'), 'utf8').catch(() => undefined);
  const fromScript = script === undefined ? undefined : parseFreebsdVersionScript(script);
  if (fromScript) return fromScript;
  const kernel = await readFile(join(root, 'boot', 'kernel', 'kernel')).catch(() => undefined);
  return kernel ? parseKernelVersion(kernel.toString('latin1')) : undefined;
}

export async function prepareGuest(config: Config, settings: GuestSettings, options: PrepareOptions = {}): Promise<PreparedGuest> {
  const server = options.server ?? config.server.address;
  if (!server) throw new BeError('E_USAGE', 'no NFS server address for the guest: pass --server IP or set server.address');
  if (!isIPv4(server)) throw new BeError('E_USAGE', `--server ${server}: not an IPv4 address`);

  const ops = await BeOps.open(config);
  const be = options.dryRun ? await ops.find(settings.be) : await ops.ensureMounted(settings.be);
  const root = be.datasets[0]!.path;
  if (!root) throw new BeError('E_USAGE', `${settings.be} is not mounted: run be mount ${settings.be} (or leave out --dry-run)`);
  for (const file of ['boot/loader', 'boot/kernel/kernel']) {
    if (!(await exists(join(root, file)))) {
      throw new BeError('E_USAGE', `${settings.be} has no ${file} (${join(root, file)}): it is not a bootable FreeBSD boot environment`);
    }
  }
  const release = settings.release ? parseRelease(settings.release) : await readRelease(root);
  if (!release) {
    throw new BeError(
      'E_USAGE',
      `cannot tell the FreeBSD release of ${settings.be} (no bin/freebsd-version, no version in the kernel): set hosts[].bhyve.release`,
    );
  }
  const caps = capabilitiesOf(release);
  let guest: Omit<GuestSpec, 'handle'>;
  try {
    guest = checkGuestSettings(
      {
        vm: settings.vm,
        hostPath: root,
        server,
        exportPath: root,
        nfsVersion: caps.nfsVersion,
        ...(settings.nfsOptions ? { nfsOptions: settings.nfsOptions } : {}),
        mac: settings.mac,
        ip: settings.ip,
        netmask: settings.netmask,
        ...(settings.gateway ? { gateway: settings.gateway } : {}),
        nic: settings.nic === 'auto' ? caps.nic : settings.nic,
        tap: settings.tap,
        memory: settings.memory,
        cpus: settings.cpus,
        console: settings.console,
        env: settings.env,
      },
      config.nfs.network ?? undefined,
    );
  } catch (err) {
    throw new BeError('E_USAGE', (err as Error).message);
  }

  if (options.dryRun) {
    const state = await loadState(config.server.stateDir);
    if (!state.shared.includes(settings.be))
      throw new BeError('E_USAGE', `${settings.be} is not shared: run be sharenfs ${settings.be} (or leave out --dry-run)`);
  } else {
    await ops.share(settings.be, { fstab: server });
  }

  const handle = await handleFor(config.nfs.handleCommand, server, root, { ...options.rpc, ...(options.signal ? { signal: options.signal } : {}) });
  try {
    checkHandle(handle, guest.nfsVersion);
  } catch (err) {
    throw new BeError('E_EXEC', `${server}:${root}: ${(err as Error).message}`);
  }
  const spec: GuestSpec = { ...guest, handle };
  const network = settings.bridge
    ? [
        ['ifconfig', spec.tap, 'create'],
        ['ifconfig', settings.bridge, 'addm', spec.tap],
        ['ifconfig', spec.tap, 'up'],
      ]
    : [];
  return { spec, release, network };
}

/**
 * Creates the tap and adds it to the bridge, through the OS door. A tap that exists already is taken
 * as set up (a guest that rebooted, or an operator's own setup) and left alone.
 */
export async function setUpNetwork(prepared: PreparedGuest, signal?: AbortSignal): Promise<void> {
  if (prepared.network.length === 0) return;
  const present = await run('ifconfig', [prepared.spec.tap], { okExitCodes: [0, 1], ...(signal ? { signal } : {}) });
  if (present.exitCode === 0) return;
  for (const argv of prepared.network) await run(argv[0]!, argv.slice(1), { timeoutMs: 10_000, ...(signal ? { signal } : {}) });
}
