/**
 * The machine's IPv4 addresses, read with the system's own tool through the OS door: `ip -j addr
 * show` on Linux, `ifconfig -a` on FreeBSD, parsed by src/net/interfaces.ts. Unlike
 * os.networkInterfaces() these list interfaces that are up without carrier (a bridge over an
 * unopened tap, a NIC without a cable) and say so in `running`.
 */
import { networkInterfaces } from 'node:os';
import { InterfaceListError, parseIfconfig, parseIpJsonAddr, type InterfaceAddress } from '../../src/net/interfaces.js';
import { CommandError, run } from '../os.js';

export type { InterfaceAddress } from '../../src/net/interfaces.js';

export interface ReadInterfacesOptions {
  /** Which tool to ask (default process.platform); any platform but linux and freebsd asks Node. */
  platform?: NodeJS.Platform;
  /** Default 5 s: both tools answer in milliseconds, and `be serve` should not hang at start-up. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told why the tool's answer was not used when falling back to os.networkInterfaces(), for a log line. */
  onFallback?: (reason: string) => void;
}

interface Lister {
  file: string;
  args: readonly string[];
  env?: Record<string, string>;
  parse: (text: string) => InterfaceAddress[];
}

const listers: Partial<Record<NodeJS.Platform, Lister>> = {
  linux: { file: 'ip', args: ['-j', 'addr', 'show'], parse: parseIpJsonAddr },
  // IFCONFIG_FORMAT from the caller's environment could ask for host names (addr:fqdn) or another
  // netmask form; "default" restores numeric addresses and hex netmasks (ifconfig.c setformat()).
  freebsd: { file: 'ifconfig', args: ['-a'], env: { IFCONFIG_FORMAT: 'addr:default,inet:default' }, parse: parseIfconfig },
};

/**
 * Node's view mapped to the same type. libuv lists only interfaces that are IFF_UP and IFF_RUNNING
 * (uv__ifaddr_exclude), so every entry is up and running; `internal` is IFF_LOOPBACK. On Linux an
 * address with a label (`eth0:1`) appears under the label, not under the device.
 */
export function fromNodeInterfaces(interfaces: ReturnType<typeof networkInterfaces>): InterfaceAddress[] {
  return Object.entries(interfaces).flatMap(([name, list]) =>
    (list ?? [])
      .filter((a) => a.family === 'IPv4')
      .map((a) => ({ name, address: a.address, prefix: Number(a.cidr?.split('/')[1] ?? 32), up: true, running: true, loopback: a.internal })),
  );
}

/**
 * Every IPv4 address of this machine. When the tool is missing (a minimal Linux without iproute2, an
 * `ip` too old for -j), fails, times out or prints what the parser refuses, this falls back to
 * os.networkInterfaces(), which works everywhere but misses interfaces without carrier (see
 * fromNodeInterfaces). An abort is not a failure of the tool and is passed on.
 */
export async function readInterfaces(options: ReadInterfacesOptions = {}): Promise<InterfaceAddress[]> {
  const platform = options.platform ?? process.platform;
  const lister = listers[platform];
  if (lister) {
    try {
      const result = await run(lister.file, lister.args, {
        timeoutMs: options.timeoutMs ?? 5000,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(lister.env ? { env: lister.env } : {}),
      });
      return lister.parse(result.stdout);
    } catch (err) {
      if (err instanceof CommandError && err.failure === 'aborted') throw err;
      if (!(err instanceof CommandError) && !(err instanceof InterfaceListError)) throw err;
      options.onFallback?.(`${err.message}; using os.networkInterfaces(), which leaves out interfaces without carrier`);
    }
  } else {
    options.onFallback?.(`no interface lister for ${platform}; using os.networkInterfaces(), which leaves out interfaces without carrier`);
  }
  return fromNodeInterfaces(networkInterfaces());
}
