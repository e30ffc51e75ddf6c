/**
 * The network the DHCP server serves, read from the interface (`dhcp.interface`, else the one holding
 * `server.address`). node:dgram cannot tell on which interface a datagram arrived, so on that path the
 * server serves this one broadcast domain directly and any others through relays; the native datagram
 * path (services/net/datagram.ts) tells, so there dhcp.pools with an `interface` are served directly too.
 * The interface list comes from the caller (services/net/interfaces.ts readInterfaces()), which also
 * lists interfaces without carrier: a bridge whose guests have not started yet is still the one to serve.
 */
import type { Config } from '../../src/config/schema.js';
import type { InterfaceAddress } from '../../src/net/interfaces.js';
import { BeError } from '../../src/errors.js';
import { toInt } from '../../src/dhcp/leases.js';
import { intToIPv4, ipv4ToInt, parseCidr, prefixToMaskInt } from '../../src/net.js';

export interface Subnet {
  network: string;
  prefix: number;
  netmask: string;
  broadcast: string;
}

export interface ServedNetwork {
  /** Our address on it: option 54 and siaddr. */
  address: string;
  interface: string | undefined;
  subnet: Subnet;
  /** Whether that interface has carrier now (a bridge over unopened taps has none until a guest starts). */
  carrier: boolean;
  /** Every interface address the machine has, as read (dhcp.pools[].interface is found among them). */
  interfaces?: readonly InterfaceAddress[];
}

export function subnetOf(address: string, prefix: number): Subnet {
  const mask = prefixToMaskInt(prefix);
  const network = (ipv4ToInt(address) & mask) >>> 0;
  return { network: intToIPv4(network), prefix, netmask: intToIPv4(mask), broadcast: intToIPv4((network | ~mask) >>> 0) };
}

/** Called for every relayed request: the unchecked parse (addresses here come from packets or validated config). */
export function inSubnet(ip: string, subnet: Subnet): boolean {
  const mask = prefixToMaskInt(subnet.prefix);
  return (toInt(ip) & mask) >>> 0 === toInt(subnet.network);
}

/**
 * Finds address and subnet; throws BeError('E_CONFIG') naming the key to fix. Loopback addresses and
 * interfaces that are administratively down are not candidates (os.networkInterfaces() never listed
 * the latter either). With neither dhcp.interface nor server.address set, an interface with carrier
 * is preferred, as before, when Node listed only those.
 */
export function servedNetwork(config: Config, interfaces: readonly InterfaceAddress[]): ServedNetwork {
  const wanted = config.dhcp.interface;
  const matches = (list: readonly InterfaceAddress[]): InterfaceAddress | undefined => {
    let found = list.find((c) =>
      wanted !== null ? c.name === wanted && (config.server.address === null || c.address === config.server.address) : c.address === config.server.address,
    );
    if (!found && wanted !== null) found = list.find((c) => c.name === wanted);
    if (!found && wanted === null && config.server.address === null) found = list.find((c) => c.running) ?? list[0];
    return found;
  };
  const candidates = interfaces.filter((a) => !a.loopback && a.up);
  const found = matches(candidates);
  if (!found) {
    const down = matches(interfaces.filter((a) => !a.loopback && !a.up));
    if (down && (wanted !== null || config.server.address !== null)) {
      throw new BeError(
        'E_CONFIG',
        `dhcp: ${down.name} (${down.address}/${down.prefix}) is down: bring it up (ifconfig ${down.name} up, or ip link set ${down.name} up)`,
      );
    }
    const have = candidates.map((c) => `${c.name} ${c.address}/${c.prefix}`).join(', ') || 'none';
    const what = wanted !== null ? `dhcp.interface ${wanted} has no IPv4 address` : `no interface holds server.address ${config.server.address}`;
    throw new BeError('E_CONFIG', `dhcp: ${what} (this machine has: ${have}): set dhcp.interface and server.address`);
  }
  const address = config.server.address ?? found.address;
  let subnet = subnetOf(found.address, found.prefix);
  if (config.dhcp.subnet !== null) {
    const { network, prefix } = parseCidr(config.dhcp.subnet);
    subnet = subnetOf(network, prefix);
  }
  return { address, interface: found.name, subnet, carrier: found.running };
}
