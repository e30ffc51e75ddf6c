import { describe, expect, it } from 'vitest';
import { be } from './be.js';

// Every case here fails before anything is sent, so it needs no namespace.
describe('be wol refuses bad input with one line and a non-zero exit', () => {
  it.each([
    [['wol', 'aa:bb:cc:dd:ee'], /^be: not a MAC address: "aa:bb:cc:dd:ee" \(use /],
    [['wol', 'nosuchhost'], /^be: unknown host "nosuchhost": hosts\[\] is empty; or give a MAC address$/],
    [['--set', 'hosts.0.name=head', '--set', 'hosts.0.mac=02:01:02:03:04:05', 'wol', 'tail'], /^be: unknown host "tail": known hosts are head; /],
    [['wol', '--count', '0', '02:01:02:03:04:05'], /^error: option '-n, --count <n>' argument '0' is invalid\. expected an integer from 1 to 100$/],
    [['wol', '--count', 'many', '02:01:02:03:04:05'], /argument 'many' is invalid/],
    [['wol', '--broadcast', '10.99.0', '02:01:02:03:04:05'], /argument '10\.99\.0' is invalid\. expected an IPv4 address/],
    [['wol', '--port', '65536', '02:01:02:03:04:05'], /argument '65536' is invalid/],
    [['wol', '--password', 'hunter2', '02:01:02:03:04:05'], /^be: --password "hunter2": a SecureOn password is 4 bytes/],
    [['wol'], /^error: missing required argument 'target'$/],
  ])('be %j', async (args, message) => {
    const result = await be(args);
    expect(result.exitCode).not.toBe(0);
    const lines = String(result.stderr).trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(result.stdout).toBe('');
  });
});
