import { describe, expect, it } from 'vitest';
import { apiRouteOf, apiStatusOf, parseActionBody } from '../../../src/http/api.js';

const route = (method: string, path: string) => apiRouteOf(method, path.split('/').filter(Boolean));

describe('API routes', () => {
  it.each(['status', 'hosts', 'leases', 'envs', 'transfers', 'guests'])('GET and HEAD /api/%s read it', (resource) => {
    expect(route('GET', `/api/${resource}`)).toEqual({ kind: 'read', resource });
    expect(route('HEAD', `/api/${resource}`)).toEqual({ kind: 'read', resource });
    expect(route('POST', `/api/${resource}`)).toMatchObject({ kind: 'error', status: 405, code: 'E_HTTP_METHOD', allow: 'GET, HEAD' });
  });

  it('reads the boots of one host and streams events', () => {
    expect(route('GET', '/api/hosts/pc-1/boots')).toEqual({ kind: 'read', resource: 'boots', host: 'pc-1' });
    expect(route('GET', '/api/events')).toEqual({ kind: 'events' });
    expect(route('POST', '/api/events')).toMatchObject({ status: 405, allow: 'GET' });
  });

  it('takes the actions by POST only', () => {
    expect(route('POST', '/api/hosts/pc/wake')).toEqual({ kind: 'action', command: 'host.wake', host: 'pc' });
    expect(route('POST', '/api/hosts/pc/assign')).toEqual({ kind: 'action', command: 'host.assign', host: 'pc' });
    expect(route('GET', '/api/hosts/pc/wake')).toMatchObject({ status: 405, allow: 'POST' });
  });

  it.each(['/api', '/api/nothing', '/api/hosts/pc', '/api/hosts/pc/reboot', '/api/hosts/pc/boots/1', '/api/events/x', '/api/status/x'])(
    '%s is not found',
    (path) => {
      expect(route('GET', path)).toMatchObject({ kind: 'error', status: 404, code: 'E_HTTP_NOT_FOUND' });
    },
  );

  it('maps the appliance’s error codes to statuses', () => {
    expect(apiStatusOf('E_HOST')).toBe(404);
    expect(apiStatusOf('E_USAGE')).toBe(400);
    expect(apiStatusOf('E_NET')).toBe(502);
    expect(apiStatusOf('E_NOT_RUNNING')).toBe(503);
    expect(apiStatusOf('E_SOMETHING_ELSE')).toBe(500);
  });
});

describe('action bodies', () => {
  it('takes nothing or a JSON object', () => {
    expect(parseActionBody('')).toEqual({});
    expect(parseActionBody(' \n')).toEqual({});
    expect(parseActionBody('{"be":"head"}')).toEqual({ be: 'head' });
  });

  it.each(['{be: head}', '["head"]', 'null', '"head"', '12'])('refuses %s', (text) => {
    expect(() => parseActionBody(text)).toThrow(/JSON/);
  });
});
