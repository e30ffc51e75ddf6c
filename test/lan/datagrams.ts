/**
 * Which datagram path the DHCP and TFTP suites run on (services/net/datagram.ts): BE_TEST_DATAGRAMS=node or
 * native; unset, the product's default (auto: native when it loads). `npm run test:datagrams` runs the
 * DHCP and TFTP suites again on node:dgram, so both paths pass the same tests.
 */
import type { DatagramsMode } from '../../services/net/datagram.js';

export function testDatagrams(): DatagramsMode {
  const mode = process.env.BE_TEST_DATAGRAMS;
  if (mode === undefined || mode === '') return 'auto';
  if (mode !== 'node' && mode !== 'native' && mode !== 'auto') throw new Error(`BE_TEST_DATAGRAMS=${mode}: expected node, native or auto`);
  return mode;
}

/** `--set` flags for be serve; none when BE_TEST_DATAGRAMS is unset (a suite's own setting then stands). */
export function datagramSettings(): string[] {
  const mode = process.env.BE_TEST_DATAGRAMS ? testDatagrams() : undefined;
  return mode ? ['--set', `dhcp.datagrams=${mode}`, '--set', `tftp.datagrams=${mode}`] : [];
}
