import { describe, expect, it } from 'vitest';
import { isReservedBeName } from '../../../src/be/inventory.js';
import { defaultHttpBaseUrl, httpStatusOf, routeOf } from '../../../src/http/route.js';
import type { TftpErrorCode } from '../../../src/tftp/errors.js';

describe('routeOf: request target → route', () => {
  it.each([
    ['/head/boot/loader.efi', 'head/boot/loader.efi'],
    ['/boot/loader.efi', 'boot/loader.efi'],
    ['/boot/loader.efi?x=1', 'boot/loader.efi'],
    ['//boot/./loader.efi', 'boot/loader.efi'],
    ['/boot\\loader.efi', 'boot/loader.efi'],
    ['/boot%2Floader.efi', 'boot/loader.efi'],
    ['/boot/caf%C3%A9', 'boot/caf\u00c3\u00a9'],
    ['http://10.0.0.1:8080/boot/kernel/kernel', 'boot/kernel/kernel'],
    ['/apis/x', 'apis/x'],
    ['/metrics.txt', 'metrics.txt'],
  ])('%j is the boot file %j', (target, path) => {
    expect(routeOf(target)).toEqual({ kind: 'file', path });
  });

  it.each([
    ['/', 'page', []],
    ['//', 'page', []],
    ['/?refresh=1', 'page', []],
    ['/./', 'page', []],
    ['http://10.0.0.1:8080', 'page', []],
    ['/api', 'api', ['api']],
    ['/api/hosts', 'api', ['api', 'hosts']],
    ['/%61pi/hosts/pc%2d1/boots', 'api', ['api', 'hosts', 'pc-1', 'boots']],
    ['/metrics', 'metrics', ['metrics']],
    ['/metrics/', 'metrics', ['metrics']],
  ])('%j is the reserved %s', (target, area, segments) => {
    expect(routeOf(target)).toEqual({ kind: 'reserved', area, segments });
  });

  it.each([
    '/../etc/passwd',
    '/boot/../../etc/passwd',
    '/%2e%2e/etc/passwd',
    '/boot/%2E%2E/%2E%2E/etc/shadow',
    '/..%5c..%5cetc%5cpasswd',
    '/boot\\..\\..\\etc\\passwd',
    '/api/../boot/loader.efi',
    '/boot/a%00b',
  ])('refuses %j with 403, as TFTP refuses the name', (target) => {
    expect(routeOf(target)).toMatchObject({ kind: 'refused', status: 403, code: 'E_TFTP_BAD_PATH' });
  });

  it.each(['*', 'boot/loader.efi', '/boot/%zz', '/boot/%4'])('refuses %j with 400', (target) => {
    expect(routeOf(target)).toMatchObject({ kind: 'refused', status: 400, code: 'E_HTTP_BAD_TARGET' });
  });
});

describe('httpStatusOf: a file source refusal → a status, in one table', () => {
  it.each([
    ['E_TFTP_NOT_FOUND', 404],
    ['E_TFTP_ACCESS', 403],
    ['E_TFTP_BAD_PATH', 403],
    ['E_TFTP_READ', 500],
    ['E_TFTP_BUSY', 503],
    ['E_TFTP_SHUTDOWN', 503],
  ] as [TftpErrorCode, number][])('%s → %i', (code, status) => {
    expect(httpStatusOf(code)).toBe(status);
  });
});

describe('the names HTTP reserves', () => {
  it('are refused as BE names, other names not', () => {
    for (const name of ['api', 'metrics', 'boot']) expect(isReservedBeName(name)).toBe(true);
    for (const name of ['head', 'API', 'apis', 'boot2', 'r14.1']) expect(isReservedBeName(name)).toBe(false);
  });
});

describe('defaultHttpBaseUrl', () => {
  it('is the next-server address and http.port while http is on, else null', () => {
    expect(defaultHttpBaseUrl({ enabled: true, address: '0.0.0.0', port: 8080 }, '10.99.0.1')).toBe('http://10.99.0.1:8080/');
    expect(defaultHttpBaseUrl({ enabled: true, address: '::', port: 80 }, '10.99.0.1')).toBe('http://10.99.0.1:80/');
    expect(defaultHttpBaseUrl({ enabled: true, address: '10.99.0.5', port: 8080 }, '10.99.0.1')).toBe('http://10.99.0.5:8080/');
    expect(defaultHttpBaseUrl({ enabled: true, address: 'fd00::5', port: 8080 }, '10.99.0.1')).toBe('http://[fd00::5]:8080/');
    expect(defaultHttpBaseUrl({ enabled: false, address: '0.0.0.0', port: 8080 }, '10.99.0.1')).toBeNull();
  });
});
