/**
 * The JSON API under /api/, as pure functions: which command of the appliance's bus a request calls,
 * and the one table from an error to an HTTP status and a stable `code`. Reads are GETs and need
 * http.allow or http.token, like the page; the two actions are POSTs and always need http.token
 * (services/http/api.ts carries them out).
 */

/** The resources a GET reads (services/http/api.ts says how each is made from the bus). */
export const apiResources = ['status', 'hosts', 'leases', 'envs', 'transfers', 'guests'] as const;
export type ApiResource = (typeof apiResources)[number] | 'boots';

export type ApiRoute =
  | { kind: 'read'; resource: ApiResource; host?: string }
  | { kind: 'events' }
  | { kind: 'action'; command: 'host.wake' | 'host.assign'; host: string }
  | { kind: 'error'; status: 404 | 405; code: 'E_HTTP_NOT_FOUND' | 'E_HTTP_METHOD'; message: string; allow?: string };

const notFound = (path: string): ApiRoute => ({ kind: 'error', status: 404, code: 'E_HTTP_NOT_FOUND', message: `no such API path: /${path}` });
const method = (allow: string, what: string): ApiRoute => ({
  kind: 'error',
  status: 405,
  code: 'E_HTTP_METHOD',
  message: `${what} takes ${allow} only`,
  allow,
});

/** `segments` is the decoded path from src/http/route.ts, starting with `api`. */
export function apiRouteOf(httpMethod: string, segments: readonly string[]): ApiRoute {
  const path = segments.join('/');
  const [, resource, host, leaf, ...rest] = segments;
  const read = httpMethod === 'GET' || httpMethod === 'HEAD';
  if (resource === undefined || rest.length > 0) return notFound(path);
  if (resource === 'events' && host === undefined) return read ? { kind: 'events' } : method('GET', '/api/events');
  if ((apiResources as readonly string[]).includes(resource) && host === undefined) {
    return read ? { kind: 'read', resource: resource as ApiResource } : method('GET, HEAD', `/${path}`);
  }
  if (resource !== 'hosts' || host === undefined || leaf === undefined) return notFound(path);
  if (leaf === 'boots') return read ? { kind: 'read', resource: 'boots', host } : method('GET, HEAD', `/${path}`);
  if (leaf === 'wake' || leaf === 'assign') {
    return httpMethod === 'POST' ? { kind: 'action', command: leaf === 'wake' ? 'host.wake' : 'host.assign', host } : method('POST', `/${path}`);
  }
  return notFound(path);
}

/** An error of the appliance (a BeError's code) as the API answers it. */
export function apiStatusOf(code: string): number {
  switch (code) {
    case 'E_HOST':
      return 404;
    case 'E_USAGE':
    case 'E_MAC':
    case 'E_CONFIG':
      return 400;
    case 'E_NET':
    case 'E_EXEC':
      return 502;
    case 'E_NOT_RUNNING':
      return 503;
    default:
      return 500;
  }
}

/** Bodies of actions are small JSON objects; anything larger is refused before it is parsed. */
export const maxBodyBytes = 16 * 1024;

/** A request body as the actions take it: empty, or a JSON object. Throws a message for anything else. */
export function parseActionBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`the body is not JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('the body must be a JSON object');
  return value as Record<string, unknown>;
}
