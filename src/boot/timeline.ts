/**
 * The boot timeline: the steps the appliance saw of one machine's network boot, in order:
 * Wake-on-LAN sent → firmware DHCP → loader fetched over TFTP → the loader's own DHCP (user class
 * FreeBSD) → kernel fetched → root mounted over NFS (when observable). Pure: services report events,
 * `be status HOST` and `be bootpxe --follow` read them.
 */

export const bootSteps = ['wol', 'firmware-dhcp', 'loader-fetched', 'loader-dhcp', 'kernel-fetched', 'nfs-mount'] as const;
export type BootStep = (typeof bootSteps)[number];

export const stepLabels: Record<BootStep, string> = {
  wol: 'Wake-on-LAN sent',
  'firmware-dhcp': 'firmware DHCP',
  'loader-fetched': 'loader fetched',
  'loader-dhcp': 'loader DHCP',
  'kernel-fetched': 'kernel fetched',
  'nfs-mount': 'root mounted over NFS',
};

export interface BootEvent {
  step: BootStep;
  /** Milliseconds since the epoch. */
  at: number;
  mac?: string;
  ip?: string;
  host?: string;
  /** The file, the boot file offered, the address: what a person wants to see on the line. */
  detail?: string;
  /** How a file was fetched (the -fetched steps): TFTP, or HTTP (UEFI HTTP boot, an iPXE script's URLs). */
  protocol?: 'tftp' | 'http';
}

export interface Timeline {
  /** The host name, or the MAC of a machine not in hosts[]. */
  key: string;
  mac?: string;
  host?: string;
  ip?: string;
  events: BootEvent[];
}

const order = (step: BootStep) => bootSteps.indexOf(step);

/**
 * Which step a TFTP download is: the FreeBSD loaders (pxeboot for BIOS, loader*.efi for UEFI) or a
 * kernel (FreeBSD's boot/kernel/kernel; `vmlinuz` is the Linux kernel the end-to-end tests boot in
 * FreeBSD's stead). Other files (modules, lua scripts, iPXE scripts) are not steps.
 */
export function classifyDownload(path: string): BootStep | undefined {
  const file = path.replace(/^\/+/, '');
  if (/(^|\/)(pxeboot|loader[\w.-]*\.efi|gptboot\.efi|undionly\.kpxe|ipxe\.efi)$/.test(file)) return 'loader-fetched';
  if (/(^|\/)kernel\/kernel(\.gz)?$|(^|\/)vmlinuz[\w.-]*$/.test(file)) return 'kernel-fetched';
  return undefined;
}

/** Boots kept per machine: the latest and the ones before it (`/api/hosts/NAME/boots`). */
export const bootsKept = 10;

/** Keeps the last boots of each machine; an address learnt from DHCP names later TFTP downloads. */
export class Timelines {
  private readonly byKey = new Map<string, Timeline>();
  /** Earlier boots of each machine, oldest first, at most bootsKept - 1. */
  private readonly earlier = new Map<string, Timeline[]>();
  private readonly keyByMac = new Map<string, string>();
  private readonly macByIp = new Map<string, string>();

  constructor(private readonly hostOfMac: (mac: string) => string | undefined = () => undefined) {}

  record(event: BootEvent): Timeline | undefined {
    let mac = event.mac;
    if (!mac && event.ip) mac = this.macByIp.get(event.ip);
    if (mac && event.ip) this.macByIp.set(event.ip, mac);
    const host = event.host ?? (mac ? this.hostOfMac(mac) : undefined);
    const key = host ?? mac ?? (event.ip ? `ip:${event.ip}` : undefined);
    if (!key) return undefined;
    if (mac) this.keyByMac.set(mac, key);
    let timeline = this.byKey.get(key);
    const last = timeline?.events.at(-1);
    // A wake-up or firmware DHCP after later steps is a new boot; repeats of a step (DHCP retries,
    // a loader fetched twice) are kept in the same boot.
    const restarts = last !== undefined && (event.step === 'wol' || event.step === 'firmware-dhcp') && order(event.step) < order(last.step);
    if (!timeline || restarts) {
      if (timeline) {
        const past = this.earlier.get(key) ?? [];
        past.push(timeline);
        this.earlier.set(key, past.slice(-(bootsKept - 1)));
      }
      timeline = { key, events: [] };
      this.byKey.set(key, timeline);
    }
    if (mac) timeline.mac = mac;
    if (host) timeline.host = host;
    if (event.ip) timeline.ip = event.ip;
    timeline.events.push({ ...event, ...(mac ? { mac } : {}), ...(host ? { host } : {}) });
    return timeline;
  }

  /** By host name or MAC. */
  get(hostOrMac: string): Timeline | undefined {
    return this.byKey.get(hostOrMac) ?? this.byKey.get(this.keyByMac.get(hostOrMac) ?? '');
  }

  /** The machine's boots, oldest first, the latest last; empty when none was seen. */
  boots(hostOrMac: string): Timeline[] {
    const latest = this.get(hostOrMac);
    return latest ? [...(this.earlier.get(latest.key) ?? []), latest] : [];
  }

  all(): Timeline[] {
    return [...this.byKey.values()];
  }
}

/** One line per event, times relative to the first: `+  3.2 s  loader fetched  boot/pxeboot`, and `(HTTP)` after a file fetched over HTTP. */
export function formatTimeline(timeline: Timeline): string[] {
  const start = timeline.events[0]?.at ?? 0;
  return timeline.events.map((e) =>
    `+${((e.at - start) / 1000).toFixed(1).padStart(6)} s  ${stepLabels[e.step].padEnd(22)}${e.detail ?? ''}${e.protocol === 'http' ? ' (HTTP)' : ''}`.trimEnd(),
  );
}
