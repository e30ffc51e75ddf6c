import { describe, expect, it } from 'vitest';
import { resolveWakeTarget } from '../../../src/wol/targets.js';
import type { BeError } from '../../../src/errors.js';

const hosts = [
  { name: 'head', mac: '02:01:02:03:04:05' },
  { name: 'stable-14', mac: '02:00:00:00:00:14' },
];

describe('wake targets', () => {
  it('takes a MAC in any accepted form', () => {
    expect(resolveWakeTarget('AA-BB-CC-DD-EE-FF', hosts)).toEqual({ mac: 'aa:bb:cc:dd:ee:ff' });
  });

  it('takes a host name from hosts[]', () => {
    expect(resolveWakeTarget('stable-14', hosts)).toEqual({ mac: '02:00:00:00:00:14', host: 'stable-14' });
  });

  it('names the bad value when a MAC is mistyped', () => {
    const err = (() => {
      try {
        resolveWakeTarget('aa:bb:cc:dd:ee', hosts);
      } catch (e) {
        return e as BeError;
      }
    })();
    expect(err?.code).toBe('E_MAC');
    expect(err?.message).toContain('not a MAC address: "aa:bb:cc:dd:ee"');
  });

  it('lists the known hosts for an unknown name', () => {
    expect(() => resolveWakeTarget('current', hosts)).toThrow('unknown host "current": known hosts are head, stable-14');
    expect(() => resolveWakeTarget('current', [])).toThrow('hosts[] is empty');
  });
});
