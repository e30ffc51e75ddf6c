/**
 * GET over node:http and node:https for `be install`'s downloads, with the proxy variables curl reads.
 *
 * Not undici (nor the global fetch, which is undici): its HTTP parser is llhttp compiled to WebAssembly,
 * and instantiating it costs about 50 MiB of resident memory in a process whose whole budget for a
 * 256 MiB install is 100 MiB (measured: `node -e` with one undici request 98 MiB, with one node:http
 * request 44 MiB; `node -e 0` 40 MiB). node:http's parser is the same llhttp, compiled into Node.
 *
 * - Proxies: `proxy-from-env` picks the proxy for a URL from HTTP_PROXY / HTTPS_PROXY / NO_PROXY (either
 *   case) at each request. An http:// URL goes to its proxy as an absolute-form GET (RFC 9112 §3.2.2),
 *   as curl sends it (`http-proxy-agent`); an https:// URL through a CONNECT tunnel (`https-proxy-agent`).
 *   A plain CONNECT is not used for http://: proxies commonly refuse CONNECT to ports other than 443
 *   (squid's default), which a mirror on :80 is. The proxy agents load only when a proxy is set.
 * - Redirects (301, 302, 303, 307, 308) are followed, at most `maxRedirects`, keeping the headers (a
 *   Range must survive a mirror's redirect to its CDN).
 * - Without a proxy, Node's global agents (keep-alive since Node 19), so a MANIFEST and its sets share a
 *   connection.
 */
import { type Agent, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { getProxyForUrl } from 'proxy-from-env';
import { BeError } from '../../src/errors.js';

export interface HttpResponse {
  status: number;
  statusText: string;
  /** The URL that answered, after redirects. */
  url: string;
  header(name: string): string | undefined;
  /** The body as it comes: read it, or destroy it. */
  body: IncomingMessage;
}

const maxRedirects = 5;
const redirects = new Set([301, 302, 303, 307, 308]);

/** GET `url`; the promise settles with the headers of the final answer. The signal aborts the request and its body. */
export async function get(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<HttpResponse> {
  let target = new URL(url);
  for (let hop = 0; ; hop++) {
    const response = await once(target, headers, signal);
    const location = response.header('location');
    if (!redirects.has(response.status) || location === undefined) return response;
    response.body.destroy();
    if (hop === maxRedirects) throw new BeError('E_NET', `${url}: more than ${maxRedirects} redirects`);
    target = new URL(location, target);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new BeError('E_NET', `${url}: redirected to ${target.href}, not http(s)`);
  }
}

async function once(target: URL, headers: Record<string, string>, signal: AbortSignal): Promise<HttpResponse> {
  const agent = await proxyAgent(target);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = request(target, { headers, signal, ...(agent ? { agent } : {}) }, (message) => {
      resolve({
        status: message.statusCode ?? 0,
        statusText: message.statusMessage ?? '',
        url: target.href,
        header: (name) => {
          const value = message.headers[name.toLowerCase()];
          return Array.isArray(value) ? value.join(', ') : value;
        },
        body: message,
      });
    });
    req.once('error', reject);
    req.end();
  });
}

/** One agent per proxy and scheme, kept for the process: several downloads at once (be hunt --jobs) may use different ones. */
const agents = new Map<string, Promise<Agent>>();

/**
 * The agent for the proxy this URL goes through, or undefined for a direct request. A proxy written
 * without a scheme (`HTTPS_PROXY=proxy:3128`) is http://, as curl takes it; proxy-from-env would
 * lend it the requested URL's scheme and so try TLS to a plain proxy port.
 */
async function proxyAgent(target: URL): Promise<Agent | undefined> {
  const found = getProxyForUrl(target.href);
  if (found === '') return undefined;
  const proxy = /^[a-z][a-z0-9+.-]*:\/\//i.test(proxyVariableFor(target) ?? found) ? found : `http://${found.replace(/^[a-z]+:\/\//i, '')}`;
  const secure = target.protocol === 'https:';
  const key = `${secure ? 'https' : 'http'} ${proxy}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = secure
      ? import('https-proxy-agent').then(({ HttpsProxyAgent }) => new HttpsProxyAgent(proxy, { keepAlive: true }))
      : import('http-proxy-agent').then(({ HttpProxyAgent }) => new HttpProxyAgent(proxy, { keepAlive: true }));
    agents.set(key, agent);
  }
  return agent;
}

/** The proxy variable's own text for this URL's scheme, as proxy-from-env reads it (lower case first). */
function proxyVariableFor(target: URL): string | undefined {
  const scheme = target.protocol.replace(':', '');
  const value = process.env[`${scheme}_proxy`] || process.env[`${scheme.toUpperCase()}_PROXY`] || process.env.all_proxy || process.env.ALL_PROXY;
  return value || undefined;
}
