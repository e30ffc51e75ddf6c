/**
 * Which FreeBSD release a boot environment holds, and what that means for a bhyve guest booted from it
 * over NFS. Read from the BE itself: `bin/freebsd-version` (10.0 and later) sets USERLAND_VERSION;
 * older releases only have the kernel's version string ("@(#)FreeBSD 7.4-RELEASE #0 ...").
 */

export interface Release {
  major: number;
  minor: number;
  /** As written by the release, e.g. `14.1-RELEASE-p5`, `15.0-CURRENT`. */
  text: string;
}

const versionPattern = /(\d+)\.(\d+)-([A-Z][A-Z0-9]*(?:-p\d+)?)/;

/** `14.1-RELEASE-p5` → { 14, 1 }; undefined when the text is not a FreeBSD version. */
export function parseRelease(text: string): Release | undefined {
  const match = new RegExp(`^${versionPattern.source}$`).exec(text.trim());
  return match ? { major: Number(match[1]), minor: Number(match[2]), text: match[0] } : undefined;
}

/** The USERLAND_VERSION assignment in bin/freebsd-version (a shell script). */
export function parseFreebsdVersionScript(script: string): Release | undefined {
  const match = /^\s*USERLAND_VERSION="?([^"\s]+)"?/m.exec(script);
  return match ? parseRelease(match[1]!) : undefined;
}

/** The version string the kernel carries (`strings boot/kernel/kernel`: "@(#)FreeBSD 7.4-RELEASE #0: ..."). */
export function parseKernelVersion(kernel: string): Release | undefined {
  const match = new RegExp(`FreeBSD ${versionPattern.source}`).exec(kernel);
  return match ? { major: Number(match[1]), minor: Number(match[2]), text: `${match[1]}.${match[2]}-${match[3]}` } : undefined;
}

export type Nic = 'virtio-net' | 'e1000';

export interface GuestCapabilities {
  /** 3: the kernel takes boot.nfsroot.nfshandlelen and a variable-length handle; 2: a 32-byte handle only. */
  nfsVersion: 2 | 3;
  nic: Nic;
}

function atLeast(release: Release, major: number, minor: number): boolean {
  return release.major > major || (release.major === major && release.minor >= minor);
}

/**
 * FREEBSD.md: NFSv3 diskless root appeared around 8.2 (7.x and older know only the NFSv2 handle);
 * virtio(4) arrived in 9.0, and before it the guest needs bhyve's e1000 (em(4)).
 */
export function capabilitiesOf(release: Release): GuestCapabilities {
  return {
    nfsVersion: atLeast(release, 8, 2) ? 3 : 2,
    nic: atLeast(release, 9, 0) ? 'virtio-net' : 'e1000',
  };
}

/** The guest's name for its first NIC of that model, for boot.netif.name. */
export function guestInterfaceName(nic: Nic): string {
  return nic === 'virtio-net' ? 'vtnet0' : 'em0';
}
