/**
 * The boot policy: what boot information a request gets, as a pure function of the request (read
 * once by requestInfo), the host it comes from and that host's boot environment. The DHCP server only
 * applies the answer to its reply; it never looks at option 60/77/93/175 itself.
 *
 * Facts behind the table: ../../../shared/FREEBSD.md ("The loader and pxeboot on the network",
 * "Firmware facts for the DHCP side").
 */
import type { RequestInfo } from './info.js';

/** What the policy needs to know about a boot environment. The boot-environment inventory fills it later. */
export interface BootEnvironment {
  name: string;
  /** Where its /boot is under the TFTP root (`head/` → `head/boot/pxeboot`); '' for the root itself. */
  tftpPrefix: string;
  /** Its root as the NFS server exports it, e.g. /var/db/be/envs/head. */
  nfsPath: string;
}

export interface BootHost {
  name: string;
  /** A TFTP path or URL of an iPXE script for this host; iPXE gets it instead of a loader. */
  ipxeScript?: string | undefined;
  /** Loader environment variables pushed with options 246-254 (FreeBSD's bootp.c). */
  loaderEnv?: Readonly<Record<string, string>> | undefined;
}

export interface PolicySettings {
  /** siaddr, option 54 and the host part of root-path: `server.address`. */
  serverAddress: string;
  /** Whether hosts not in hosts[] get boot information (`dhcp.bootUnknown`). */
  bootUnknown: boolean;
  /** Base URL for UEFI HTTP boot (`dhcp.httpBaseUrl`); null: HTTP clients get no answer. */
  httpBaseUrl: string | null;
}

export interface BootAnswer {
  /** Why, in a few words, for the log line. */
  reason: string;
  /** True when the reply carries boot information; a proxy server stays silent otherwise. */
  boot: boolean;
  /** Boot file: the `file` field and option 67 (a TFTP path, or a URL for HTTP boot). */
  file?: string;
  /** Next server: `siaddr`, the `sname` field and option 66. */
  nextServer?: string;
  /** Option 17. */
  rootPath?: string;
  /** Option 60 in the reply: PXEClient (PXE spec) or HTTPClient (UEFI HTTP boot). */
  vendorClass?: 'PXEClient' | 'HTTPClient';
  /** Options 246-254 as (code, text). */
  loaderOptions: { code: number; text: string }[];
}

/** Client architecture (option 93, RFC 4578 and the IANA registry) → the loader in the boot environment. */
export const archTable = [
  { arch: 0, label: 'BIOS x86', file: 'boot/pxeboot' },
  { arch: 6, label: 'EFI IA32', file: 'boot/loader_ia32.efi' },
  { arch: 7, label: 'EFI x64', file: 'boot/loader.efi' },
  // RFC 4578's erratum swapped 7 and 9: firmware sends either for x64.
  { arch: 9, label: 'EFI x64', file: 'boot/loader.efi' },
  { arch: 10, label: 'EFI ARM32', file: 'boot/loader.efi' },
  { arch: 11, label: 'EFI ARM64', file: 'boot/loader.efi' },
  { arch: 15, label: 'HTTP x86', file: 'boot/loader_ia32.efi' },
  { arch: 16, label: 'HTTP x64', file: 'boot/loader.efi' },
  { arch: 18, label: 'HTTP ARM32', file: 'boot/loader.efi' },
  { arch: 19, label: 'HTTP ARM64', file: 'boot/loader.efi' },
] as const;

/** Which option carries each loader variable: 250-254 one `name=value` each, then 246-249 `a=b;c=d` packed. */
export function loaderOptions(env: Readonly<Record<string, string>>): { code: number; text: string }[] {
  const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const out: { code: number; text: string }[] = [];
  pairs.slice(0, 5).forEach((pair, i) => out.push({ code: 250 + i, text: pair }));
  let code = 246;
  let packed = '';
  for (const pair of pairs.slice(5)) {
    if (packed && packed.length + 1 + pair.length > 255) {
      out.push({ code: code++, text: packed });
      packed = '';
    }
    packed = packed ? `${packed};${pair}` : pair;
  }
  if (packed) out.push({ code, text: packed });
  if (code > 249) throw new RangeError('too many loader variables: options 246-254 hold 5 single variables and 4 x 255 bytes of packed ones');
  return out;
}

function join(prefix: string, file: string): string {
  return prefix === '' || prefix.endsWith('/') ? `${prefix}${file}` : `${prefix}/${file}`;
}

/**
 * Decide. `host` is undefined for a client not in hosts[]; `env` is undefined when the host has no
 * boot environment. The table, first match wins:
 *
 * | client | answer |
 * |---|---|
 * | unknown host, bootUnknown false | nothing |
 * | no boot environment | nothing |
 * | HTTPClient (UEFI HTTP boot) | URL of the arch's loader + option 60 HTTPClient, if httpBaseUrl; else nothing |
 * | FreeBSD loader (PXEClient + user class FreeBSD) | root-path + loader variables, no boot file |
 * | iPXE with a script configured | the script |
 * | iPXE without, or other PXE firmware | the arch's loader from the environment (no arch: BIOS) |
 * | anything else from a host in hosts[] (10.1's loader.efi sends only option 53) | root-path, siaddr and loader variables |
 * | anything else (an OS, an initramfs) | root-path when it asks for option 17 |
 *
 * Root-path is added whenever the client asks for option 17. A host in hosts[] with a boot
 * environment is a PXE chain (firmware, then a loader, then a kernel), and older loaders neither say
 * who they are nor ask: every answer to it carries the root-path and its loader variables unasked, as
 * dnsmasq's dhcp-option-force does; firmware ignores both. We never hand out an iPXE binary, so iPXE
 * can never be sent itself again (the loop-break holds by construction).
 */
export function decideBoot(info: RequestInfo, host: BootHost | undefined, env: BootEnvironment | undefined, settings: PolicySettings): BootAnswer {
  const none = (reason: string): BootAnswer => ({ reason, boot: false, loaderOptions: [] });
  if (!host && !settings.bootUnknown) return none('unknown host (dhcp.bootUnknown is false)');
  if (!env) return none(host ? `host ${host.name} has no boot environment` : 'unknown host and no dhcp.defaultBe');
  const server = settings.serverAddress;
  const rootPath = `${server}:${env.nfsPath}`;
  const wantsRoot = info.parameterList.includes(17);
  const chain = host !== undefined;
  // Only hosts in hosts[] carry loader variables; an unknown client (most requests) makes none.
  const variables = host?.loaderEnv ? loaderOptions(host.loaderEnv) : [];
  const withRoot = (answer: BootAnswer): BootAnswer =>
    chain ? { ...answer, rootPath, loaderOptions: variables } : wantsRoot && answer.rootPath === undefined ? { ...answer, rootPath } : answer;
  const arch = info.arch ?? 0;
  const archEntry = info.kind === 'plain' || info.kind === 'freebsd-loader' ? undefined : archTable.find((a) => a.arch === arch);

  switch (info.kind) {
    case 'http': {
      if (settings.httpBaseUrl === null) return none('UEFI HTTP boot but dhcp.httpBaseUrl is not set');
      if (!archEntry) return none(`UEFI HTTP boot from unknown architecture ${info.arch}`);
      const url = `${settings.httpBaseUrl.replace(/\/+$/, '')}/${join(env.tftpPrefix, archEntry.file)}`;
      return withRoot({ reason: `HTTP boot, ${archEntry.label}`, boot: true, file: url, vendorClass: 'HTTPClient', loaderOptions: [] });
    }
    case 'freebsd-loader':
      return {
        reason: `FreeBSD loader: root-path of ${env.name}`,
        boot: true,
        nextServer: server,
        rootPath,
        vendorClass: 'PXEClient',
        loaderOptions: variables,
      };
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: iPXE without a script is handled as PXE firmware, below
    case 'ipxe':
      if (host?.ipxeScript) {
        return withRoot({ reason: 'iPXE: host script', boot: true, file: host.ipxeScript, nextServer: server, loaderOptions: [] });
      }
    // falls through: iPXE provides the PXE API pxeboot needs, so it gets the same loader as other firmware
    case 'pxe': {
      if (!archEntry) return none(`PXE from unknown architecture ${info.arch}`);
      return withRoot({
        reason: `${info.kind === 'ipxe' ? 'iPXE' : 'PXE firmware'}, ${archEntry.label}: loader of ${env.name}`,
        boot: true,
        file: join(env.tftpPrefix, archEntry.file),
        nextServer: server,
        vendorClass: 'PXEClient',
        loaderOptions: [],
      });
    }
    case 'plain':
      if (chain) return { reason: `host ${host.name}: root-path of ${env.name}, unasked`, boot: true, nextServer: server, rootPath, loaderOptions: variables };
      return wantsRoot ? { reason: `asks for root-path: ${env.name}`, boot: true, rootPath, loaderOptions: [] } : none('not a boot client');
  }
}
