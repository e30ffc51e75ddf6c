import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig, parseOverride } from '../../../src/config/parse.js';
import { configSchema } from '../../../src/config/schema.js';
import { BeError } from '../../../src/errors.js';

function configError(text: string, overrides: string[] = []): BeError {
  try {
    parseConfig({ text, file: 'be.yaml' }, overrides.map(parseOverride));
  } catch (err) {
    if (err instanceof BeError) return err;
    throw err;
  }
  throw new Error('expected a configuration error');
}

describe('configuration', () => {
  it('is all defaults for an empty file', () => {
    const config = parseConfig({ text: '', file: 'be.yaml' });
    expect(config).toEqual(configSchema.parse({}));
    expect(config.tftp.port).toBe(69);
    expect(config.wol).toEqual({ broadcast: '255.255.255.255', port: 9, count: 1, interval: 100 });
  });

  it('names the key, the bad value and the line', () => {
    const err = configError('log:\n  level: info\ntftp:\n  enabled: true\n  port: 70000\n');
    expect(err.code).toBe('E_CONFIG');
    expect(err.exitStatus).toBe(2);
    expect(err.message).toMatch(/^be\.yaml:5: tftp\.port = 70000: /);
    expect(err.message).not.toContain('\n');
  });

  it("takes a DHCP range as START-END (dnsmasq's form, and --set's) as well as { start, end }", () => {
    const short = parseConfig({
      text: 'dhcp:\n  range: 10.0.0.100-10.0.0.199\n  pools: [{ subnet: 10.1.0.0/24, range: 10.1.0.10 - 10.1.0.20 }]\n',
      file: 'be.yaml',
    });
    expect(short.dhcp.range).toEqual({ start: '10.0.0.100', end: '10.0.0.199' });
    expect(short.dhcp.pools[0]?.range).toEqual({ start: '10.1.0.10', end: '10.1.0.20' });
    expect(parseConfig({ text: '', file: 'be.yaml' }, [parseOverride('dhcp.range=10.0.0.5-10.0.0.9')]).dhcp.range).toEqual({
      start: '10.0.0.5',
      end: '10.0.0.9',
    });
    expect(parseConfig({ text: 'dhcp:\n  range: { start: 10.0.0.1, end: 10.0.0.1 }\n', file: 'be.yaml' }).dhcp.range).toEqual({
      start: '10.0.0.1',
      end: '10.0.0.1',
    });
    expect(configError('dhcp:\n  range: 10.0.0.100\n').message).toMatch(
      /^be\.yaml:2: dhcp\.range = "10\.0\.0\.100": must be START-END \(e\.g\. 10\.0\.0\.100-10\.0\.0\.199\) or \{ start, end \}$/,
    );
    expect(configError('dhcp:\n  range: 10.0.0.1-10.0.0.x\n').message).toBe('be.yaml:2: dhcp.range = "10.0.0.1-10.0.0.x": 10.0.0.x is not an IPv4 address');
    expect(configError('dhcp:\n  range: 10.0.0.200-10.0.0.100\n').message).toMatch(/^be\.yaml:2: dhcp\.range = .*start must not come after end$/);
  });

  it('names an unknown key with its line', () => {
    expect(configError('tftp:\n  prot: 69\n').message).toBe('be.yaml:2: unknown key tftp.prot');
    expect(configError('\nbogus: 1\n').message).toBe('be.yaml:2: unknown key bogus');
  });

  it('names array elements the way people read them', () => {
    const text = 'hosts:\n  - name: a\n    mac: 02:00:00:00:00:01\n  - name: b\n    mac: 02:00:00:00:00:0g\n';
    expect(configError(text).message).toMatch(/^be\.yaml:5: hosts\[1\]\.mac = "02:00:00:00:00:0g": must be a MAC address/);
  });

  it('refuses duplicate host names and MACs', () => {
    const text = 'hosts:\n  - {name: a, mac: 02:00:00:00:00:01}\n  - {name: a, mac: 02-00-00-00-00-01}\n';
    expect(configError(text).message).toMatch(/hosts\[1\]\.name = "a": duplicates hosts\[0\]\.name/);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(configError('tftp:\n  port: 69\n  port: 70\n').message).toMatch(/^be\.yaml:3: invalid YAML: Map keys must be unique/);
    expect(configError('log:\n  level: info\ntftp: {port: 69\n').message).toMatch(/^be\.yaml:\d: invalid YAML: /);
  });

  it('refuses a file that is not a mapping', () => {
    expect(configError('- a\n- b\n').message).toBe('be.yaml: the configuration must be a mapping of keys, got ["a","b"]');
  });

  it('applies --set overrides with YAML-typed values', () => {
    const config = parseConfig({ text: 'tftp:\n  port: 69\n', file: 'be.yaml' }, [
      parseOverride('tftp.port=6969'),
      parseOverride('tftp.enabled=false'),
      parseOverride('dhcp.dns=[10.0.0.1, 10.0.0.2]'),
      parseOverride('hosts.0.name=pc1'),
      parseOverride('hosts.0.mac=AABB.CCDD.EEFF'),
      parseOverride('server.address=10.99.0.1'),
    ]);
    expect(config.tftp.port).toBe(6969);
    expect(config.tftp.enabled).toBe(false);
    expect(config.dhcp.dns).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(config.hosts[0]).toMatchObject({ name: 'pc1', mac: 'aa:bb:cc:dd:ee:ff', boot: 'pxe' });
    expect(config.server.address).toBe('10.99.0.1');
  });

  it('says a bad value came from --set', () => {
    expect(configError('', ['wol.port=0']).message).toMatch(/^--set wol\.port=0: wol\.port = 0: /);
    expect(configError('', ['tftp.bogus=1']).message).toBe('--set tftp.bogus=1: unknown key tftp.bogus');
  });

  it('refuses a malformed --set', () => {
    expect(() => parseOverride('tftp.port')).toThrow('--set "tftp.port": expected dotted.key=value');
    expect(() => parseOverride('=1')).toThrow('expected dotted.key=value');
  });

  it('refuses a network with host bits set and suggests the fix', () => {
    expect(configError('nfs:\n  network: 10.99.0.1/24\n').message).toMatch(/^be\.yaml:2: nfs\.network = "10\.99\.0\.1\/24": must be a network in CIDR form/);
  });
});

describe('shipped configuration files', () => {
  const example = readFileSync(new URL('../../../config/be.example.yaml', import.meta.url), 'utf8');

  // That it documents every key, and is what the schema's descriptions generate, is test/src/config/docs.test.ts.
  it('the example is valid, and its hosts use every host key', () => {
    const parsed = parseConfig({ text: example, file: 'be.example.yaml' });
    const shown = new Set(parsed.hosts.flatMap((h) => Object.keys(h)));
    expect([...shown].sort()).toEqual(Object.keys(configSchema.shape.hosts.unwrap().element.shape).sort());
  });

  it('the example shows the defaults for everything but hosts', () => {
    const parsed = parseConfig({ text: example, file: 'be.example.yaml' });
    expect({ ...parsed, hosts: [] }).toEqual(configSchema.parse({}));
  });

  it('the embedded default is valid', () => {
    const text = readFileSync(new URL('../../../config/default.yaml', import.meta.url), 'utf8');
    expect(parseConfig({ text, file: 'default.yaml' }).dhcp.mode).toBe('proxy');
  });
});
