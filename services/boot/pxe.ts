/**
 * `be sharepxe` and `be bootpxe`: make a boot environment PXE-bootable (mounted, shared over NFS with
 * the guest fstab, its boot/ served over TFTP) and assign hosts to it. Both only change the state file;
 * a running appliance is then asked to reload, and one that is not running reads it when it starts.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { requireHost } from '../../src/boot/assignments.js';
import type { Config } from '../../src/config/schema.js';
import { BeError } from '../../src/errors.js';
import { BeOps } from '../be/ops.js';
import { loadState, updateState } from '../be/state.js';
import { callAppliance } from '../control/client.js';
import { controlSocketPath } from '../control/server.js';

/** The files PXE firmware loads from a boot environment (FREEBSD.md: BIOS pxeboot, UEFI loader.efi). */
export const pxeLoaders = ['boot/pxeboot', 'boot/loader.efi'];

export interface SharePxeResult {
  be: string;
  path: string;
  loaders: string[];
  exportsChanged: boolean;
  /** Set when the exports were written but no NFS server runs to read them yet (ExportsOutcome). */
  exportsNotRunning?: string;
}

export async function sharePxe(config: Config, name: string): Promise<SharePxeResult> {
  const ops = await BeOps.open(config);
  const be = await ops.ensureMounted(name);
  const root = be.datasets[0]!.path!;
  const loaders: string[] = [];
  for (const file of pxeLoaders)
    if (
      await access(join(root, file)).then(
        () => true,
        () => false,
      )
    )
      loaders.push(file);
  if (loaders.length === 0) {
    throw new BeError('E_USAGE', `${name} has neither ${pxeLoaders.join(' nor ')} (${root}): PXE firmware would have nothing to load`);
  }
  const outcome = await ops.share(name, config.server.address ? { fstab: config.server.address } : {});
  await updateState(config.server.stateDir, (state) => {
    state.pxe = [...new Set([...state.pxe, name])];
  });
  return { be: name, path: root, loaders, exportsChanged: outcome.written, ...(outcome.notRunning ? { exportsNotRunning: outcome.notRunning } : {}) };
}

export async function assignHost(config: Config, hostName: string, be: string): Promise<void> {
  requireHost(config, hostName);
  await updateState(config.server.stateDir, (state) => {
    state.assignments[hostName] = be;
  });
}

export interface BootPxeResult {
  host: string;
  be: string;
  /** Set when the BE was not PXE-bootable yet and was made so (be sharepxe's work). */
  shared?: SharePxeResult;
  /** Whether a running appliance took the assignment now. */
  live: boolean;
}

/**
 * `be bootpxe NAME --host H` and POST /api/hosts/H/assign: the host boots the BE from now on. The BE
 * is made PXE-bootable first when it is not (mounted, shared), so an unknown host or a BE that cannot
 * be shared changes nothing; then the assignment is recorded and `reload` tells the appliance.
 */
export async function bootPxe(config: Config, hostName: string, be: string, reload: () => Promise<boolean>): Promise<BootPxeResult> {
  requireHost(config, hostName);
  const shared = (await loadState(config.server.stateDir)).pxe.includes(be) ? undefined : await sharePxe(config, be);
  await assignHost(config, hostName, be);
  return { host: hostName, be, ...(shared ? { shared } : {}), live: await reload() };
}

/** A warning for when the appliance took a new assignment but could not read the boot environments for it. */
export const staleWarning =
  'be serve could not read the boot environments: hosts keep their previous boot environments until it can (it retries every 10 s; see its log)';

/**
 * Ask a running appliance to re-read its configuration; false when none runs. A reload it refuses
 * (a reservation its DHCP server cannot serve) rejects with the reason.
 */
export async function reloadAppliance(config: Config, warn: (line: string) => void = () => {}): Promise<boolean> {
  const result = await askAppliance(config, 'appliance.reload');
  if (result !== false && (result as { stale?: boolean } | null)?.stale) warn(staleWarning);
  return result !== false;
}

/** Ask a running appliance to read the boot environments again (a BE was mounted); false when none runs. */
export async function refreshAppliance(config: Config): Promise<boolean> {
  return (await askAppliance(config, 'boot.refresh')) !== false;
}

/** The command's answer, or false when no appliance runs. */
async function askAppliance(config: Config, method: string): Promise<unknown> {
  if (!config.server.control) return false;
  try {
    return await callAppliance(controlSocketPath(config), method, {}, 15_000);
  } catch (err) {
    if ((err as BeError).code === 'E_NOT_RUNNING') return false;
    throw err;
  }
}
