import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { annotatedYaml, exampleYaml } from '../../../src/config/annotate.js';
import { allKeys, configDocs } from '../../../src/config/docs.js';
import { parseConfig } from '../../../src/config/parse.js';
import { configSchema } from '../../../src/config/schema.js';
import { schemaKeys } from './schema-keys.js';

const committedExample = readFileSync(new URL('../../../config/be.example.yaml', import.meta.url), 'utf8');

describe('the schema documents itself', () => {
  it('reads every key of the schema, in its order', () => {
    expect(allKeys().map((key) => key.path)).toEqual(schemaKeys());
  });

  it('describes every key and section', () => {
    for (const key of allKeys()) expect(key.description, key.path).not.toBe('');
  });

  it('says what every value of an enum means, or none of them', () => {
    for (const key of allKeys().filter((k) => k.values)) {
      const names = Object.keys(key.values!);
      expect(key.type, key.path).toBe(`${names.slice(0, -1).join(', ')} or ${names.at(-1)}`);
    }
  });

  it('gives examples that are valid configuration', () => {
    const withExamples = allKeys().filter((key) => key.examples);
    expect(withExamples.map((key) => key.path)).toEqual(['http.allow', 'dhcp.pools', 'dhcp.options', 'hosts']);
    for (const key of withExamples) {
      for (const example of key.examples!) {
        const nested = key.path
          .split('.')
          .reverse()
          .reduce<unknown>((value, name) => ({ [name]: value }), example);
        expect(configSchema.safeParse(nested).success, `${key.path}: ${JSON.stringify(example)}`).toBe(true);
      }
    }
  });

  it('names types and defaults', () => {
    const byPath = new Map(allKeys().map((key) => [key.path, key]));
    expect(byPath.get('tftp.port')).toMatchObject({ type: 'integer, 1 to 65535', default: { value: 69 } });
    expect(byPath.get('server.address')).toMatchObject({ type: 'IPv4 address or null', default: { value: null } });
    expect(byPath.get('dhcp.range')?.type).toBe('address range or null');
    expect(byPath.get('hosts[].mac')).toMatchObject({ type: 'MAC address' });
    expect(byPath.get('hosts[].mac')?.default).toBeUndefined();
    expect(byPath.get('dhcp.dns')?.type).toBe('list of IPv4 addresses');
    expect(byPath.get('hosts')).toMatchObject({ list: true, default: { value: [] } });
    expect(byPath.get('tftp')?.default).toBeUndefined();
    expect(byPath.get('hosts[].bhyve')?.overrides).toBe('bhyve');
  });
});

describe('config/be.example.yaml', () => {
  it('is what the schema generates now (npm run docs rewrites it)', () => {
    expect(committedExample).toBe(exampleYaml());
  });

  it('documents every key of the schema', () => {
    const lines = committedExample.split('\n');
    for (const path of schemaKeys()) {
      const name = path.split('.').at(-1)!.replace('[]', '');
      // A key as YAML (`port: 69`, `- name: head`), or in the comment that lists a list's entries.
      const shown = lines.some((line) => new RegExp(`^\\s*(- )?${name}:|^\\s*#\\s+${name}:`).test(line));
      expect(shown, `config/be.example.yaml should document ${path}`).toBe(true);
    }
  });

  it('says above each key what the schema says of it', () => {
    expect(committedExample).toContain('  # Largest window granted (RFC 7440); 1 means lock-step.\n  maxWindowsize: 16\n');
    expect(committedExample).toContain('  # proxy: answer only PXE clients with boot information');
    expect(committedExample).toMatch(/# The machines this appliance knows\.\n# Default: \[\]\.\n# Each entry:\n# {3}name: {7}A short name/);
  });
});

describe('annotated configuration (be config show --comments)', () => {
  const config = parseConfig({ text: 'tftp:\n  port: 6969\nhosts:\n  - { name: pc1, mac: 02:00:00:00:00:01 }\n', file: 'be.yaml' });
  const text = annotatedYaml(config, ['effective configuration, read from be.yaml']);

  it('is the same configuration as without comments', () => {
    expect(parse(text)).toEqual(JSON.parse(JSON.stringify(config)));
  });

  it('gives the default of a key whose value is not the default, and only then', () => {
    expect(text).toContain('  # UDP port to listen on. Port 69 needs root.\n  # Default: 69.\n  port: 6969\n');
    expect(text).toContain('  # Address to listen on.\n  address: 0.0.0.0\n');
  });

  it('shows examples only beside a default, where they help', () => {
    expect(text).toMatch(/# e\.g\.\n {2}# {3}options: \{ ntpServers: \[ 10\.99\.0\.1 \]/);
    expect(text).not.toContain('#   hosts:');
  });

  it('starts with the header and keeps the sections apart', () => {
    expect(text.startsWith('# effective configuration, read from be.yaml\n\n# The appliance itself')).toBe(true);
    expect(text).toMatch(/\n\n# What `be serve` logs\.\nlog:\n/);
  });

  it('covers every section of the schema', () => {
    for (const section of configDocs()) expect(text).toMatch(new RegExp(`^${section.name}:`, 'm'));
  });
});
