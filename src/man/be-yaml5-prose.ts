/**
 * The hand-written part of be.yaml(5), around the keys that src/man/be-yaml5.ts reads from the schema.
 * Markup as in src/man/markup.ts.
 */

export const description = `The configuration of be(8) is one YAML file, validated once at start-up: every problem is reported with the file, the line, the key and the value.
Every key has a default, so an empty file is a valid configuration; an unknown key is refused, so a typo is named instead of ignored.

The file is the one \`-c\` names, else /usr/local/etc/be.yaml when it exists, else an embedded default.
Any key can be overridden on the command line, \`--set key=value\`, repeatable; the value is read as YAML, so \`true\`, \`69\`, \`null\` and \`[10.0.0.1, 10.0.0.2]\` mean what they say, and \`hosts.0.mac\` names a key of the first host.
\`be config check\` validates the result, and \`be config show --comments\` prints it with each key's description.

The keys follow, section by section; \`hosts[].name\` is the key name of each entry of the list hosts.`;

export const dhcpOptions = `\`dhcp.options\` takes these names, each with a value of its kind; an option the server computes itself (leaseTime, router, dns ...) is replaced by the one given:`;

export const files: [string, string][] = [
  ['/usr/local/etc/be.yaml', 'The configuration file, when `-c` names none.'],
  ['config/default.yaml', 'In the package: the embedded default, proxyDHCP beside the LAN’s own DHCP server, TFTP, boot environments as directories.'],
  ['config/be.example.yaml', 'In the package: every key with its default and its description, and example hosts.'],
];

/** EXAMPLES: each a description and a whole configuration (test/man.test.ts parses them). */
export const examples: [string, string][] = [
  [
    'A boot server beside the LAN’s own DHCP server: proxyDHCP answers PXE firmware only, and boot environments are ZFS datasets exported to the LAN.',
    `server:
  address: 192.168.2.10
dhcp:
  mode: proxy
be:
  backend: zfs
  root: zroot/ROOT
nfs:
  network: 192.168.2.0/24
hosts:
  - name: lab1
    mac: 02:00:00:00:01:01
    be: head`,
  ],
  [
    'The only DHCP server of a lab network, with a reservation and an NTP server for every client; on Linux, the exports are reloaded with exportfs.',
    `server:
  address: 10.99.0.1
dhcp:
  mode: authoritative
  range: 10.99.0.100-10.99.0.199
  router: 10.99.0.1
  dns: [10.99.0.1]
  options: { ntpServers: [10.99.0.1] }
nfs:
  network: 10.99.0.0/24
  format: linux
  exportsFile: /etc/exports.d/be.exports
  reload: [exportfs, -ra]
hosts:
  - { name: pc1, mac: 02:00:00:00:00:01, ip: 10.99.0.50, be: stable-14 }`,
  ],
];

export const seeAlso = ['be(8)', 'exports(5)', 'bhyve(8)', 'mountd(8)'];
