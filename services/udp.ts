/**
 * Binding a UDP socket, with the two failures an operator meets turned into one clear line: a privileged
 * port without root (EACCES) and a port another server holds (EADDRINUSE). Every UDP service binds here.
 */
import { createSocket, type Socket } from 'node:dgram';
import { BeError } from '../src/errors.js';

export interface BindOptions {
  address: string;
  port: number;
  /** The service name used in the message, e.g. "tftp". */
  service: string;
  /** The configuration keys that set the address and port, named in the message so the fix is obvious. */
  keys: { address: string; port: string };
  /** Socket buffer sizes in bytes (best effort: the kernel may cap them). */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Named in the message; UDP unless said (the HTTP service's TCP listener shares the message). */
  protocol?: 'UDP' | 'TCP';
  /** The unprivileged port the message suggests (default 6969). */
  examplePort?: number;
  /** SO_REUSEADDR, for services that share a port (DHCP). */
  reuseAddr?: boolean;
  /**
   * Destinations are always IP literals: skip the resolver on every send (dgram otherwise defers each
   * send by a tick through dns.lookup, which costs a busy sender a visible share of its throughput).
   */
  literalAddressesOnly?: boolean;
}

function literalLookup(address: string, _options: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, 4);
}

/** The one-line reason and fix for a bind errno. */
export function bindFailureMessage(err: NodeJS.ErrnoException, options: BindOptions): string {
  const where = `${options.address}:${options.port}`;
  const head = `${options.service}: cannot bind ${options.protocol ?? 'UDP'} ${where}`;
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return options.port < 1024
        ? `${head}: permission denied (port ${options.port} is privileged): run as root or set ${options.keys.port} to 1024 or higher, e.g. --set ${options.keys.port}=${options.examplePort ?? 6969}`
        : `${head}: permission denied: check the address (${options.keys.address}) and ${options.keys.port}`;
    case 'EADDRINUSE':
      return `${head}: address already in use (another server holds port ${options.port}): stop it or set ${options.keys.port} to a free port`;
    case 'EADDRNOTAVAIL':
      return `${head}: address not available on this machine: set ${options.keys.address} to one of its addresses or 0.0.0.0`;
    default:
      return `${head}: ${err.code ?? err.message} (check ${options.keys.address} and ${options.keys.port})`;
  }
}

/** Binds a udp4 socket; rejects with BeError('E_BIND') and leaves no socket open on failure. */
export async function bindUdp(options: BindOptions): Promise<Socket> {
  const socket = createSocket({
    type: 'udp4',
    ...(options.reuseAddr ? { reuseAddr: true } : {}),
    ...(options.literalAddressesOnly ? { lookup: literalLookup as never } : {}),
    ...(options.recvBufferSize ? { recvBufferSize: options.recvBufferSize } : {}),
    ...(options.sendBufferSize ? { sendBufferSize: options.sendBufferSize } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: options.address, port: options.port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    try {
      socket.close();
    } catch {
      // never bound: nothing to close
    }
    throw new BeError('E_BIND', bindFailureMessage(err as NodeJS.ErrnoException, options), undefined, { cause: err });
  }
  return socket;
}
