/**
 * The HTTP service's paths, as a pure function of the request target: boot files by the names TFTP
 * gives them (`/NAME/boot/...`, `/boot/...`, anything else in tftp.root), the status page at `/`, the
 * API under `/api/` and the metrics at `/metrics`. Boot environment names that would be taken for the
 * last two are refused by `be create` (src/be/inventory.ts reservedBeNames). Also the one table from a
 * file source's refusal to an HTTP status.
 */
import type { TftpErrorCode } from '../tftp/errors.js';
import { normalizeRequestPath } from '../tftp/paths.js';

/** First path segments that are not boot files. */
export const reservedSegments = ['api', 'metrics'] as const;

export type Area = 'page' | 'api' | 'metrics';

export type Route =
  /** A boot file: `path` is normalised as TFTP normalises names (src/tftp/paths.ts), one latin1 character per byte. */
  | { kind: 'file'; path: string }
  /** `segments`: the decoded path, split (`/api/hosts/pc/boots` → api, hosts, pc, boots). */
  | { kind: 'reserved'; area: Area; segments: string[] }
  | { kind: 'refused'; status: 400 | 403; code: 'E_HTTP_BAD_TARGET' | 'E_TFTP_BAD_PATH'; reason: string };

/** `%XX` → the byte; every other character stands for itself (Node hands the target over one character per byte). */
function percentDecode(text: string): string | undefined {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    out += String.fromCharCode(Number.parseInt(hex, 16));
    i += 2;
  }
  return out;
}

/**
 * Request target → route. The origin form `/path?query` is the usual one; the absolute form
 * (`http://host/path`, RFC 9112 §3.2.2) is accepted too. The query is ignored. The path is
 * percent-decoded before it is judged, so `%2e%2e` is a `..` and `%2f` a separator: the same names
 * and the same refusals as over TFTP (a `..` anywhere, NUL), whatever the spelling.
 */
export function routeOf(target: string): Route {
  let path = target;
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(path);
  if (absolute) path = path.slice(absolute[0].length) || '/';
  path = path.replace(/[?#].*$/s, '');
  if (!path.startsWith('/')) return { kind: 'refused', status: 400, code: 'E_HTTP_BAD_TARGET', reason: `request target ${JSON.stringify(target)}` };
  const decoded = percentDecode(path);
  if (decoded === undefined) return { kind: 'refused', status: 400, code: 'E_HTTP_BAD_TARGET', reason: 'bad percent-encoding' };
  const segments = decoded
    .replaceAll('\\', '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { kind: 'refused', status: 403, code: 'E_TFTP_BAD_PATH', reason: 'file name contains a ".." component' };
  if (segments.length === 0) return { kind: 'reserved', area: 'page', segments };
  const first = segments[0]!;
  if ((reservedSegments as readonly string[]).includes(first)) return { kind: 'reserved', area: first as Area, segments };
  const normal = normalizeRequestPath(decoded);
  if (!normal.ok) return { kind: 'refused', status: 403, code: 'E_TFTP_BAD_PATH', reason: normal.reason };
  return { kind: 'file', path: normal.path };
}

/**
 * The only mapping from a file source's refusal to a status. Not found is 404; everything TFTP calls an
 * access violation (outside the root, a link out of it, not a regular file, a bad name) is 403; a
 * server that is busy or closing is 503; a read error is 500.
 */
const statusOfCode: Record<TftpErrorCode, number> = {
  E_TFTP_NOT_FOUND: 404,
  E_TFTP_ACCESS: 403,
  E_TFTP_BAD_PATH: 403,
  E_TFTP_READ_ONLY: 405,
  E_TFTP_BAD_MODE: 400,
  E_TFTP_BUSY: 503,
  E_TFTP_UNKNOWN_TID: 400,
  E_TFTP_ILLEGAL_OP: 400,
  E_TFTP_TIMEOUT: 504,
  E_TFTP_READ: 500,
  E_TFTP_SHUTDOWN: 503,
};

export function httpStatusOf(code: TftpErrorCode): number {
  return statusOfCode[code];
}

/**
 * Where UEFI HTTP boot clients are sent when dhcp.httpBaseUrl is null: this appliance's HTTP service,
 * at the address DHCP gives as next-server (`serverAddress`), unless http.address names one address.
 * null while the service is off.
 */
export function defaultHttpBaseUrl(http: { enabled: boolean; address: string; port: number }, serverAddress: string): string | null {
  if (!http.enabled) return null;
  const wildcard = http.address === '0.0.0.0' || http.address === '::';
  const host = wildcard ? serverAddress : http.address.includes(':') ? `[${http.address}]` : http.address;
  return `http://${host}:${http.port}/`;
}
