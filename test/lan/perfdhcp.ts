/** Reading perfdhcp's (Debian kea-admin) closing statistics, for tests and bench/dhcp.ts alike. */

/** A counter of one exchange's section, e.g. ('DISCOVER-OFFER', 'sent packets'); 0 when absent. */
export function perfdhcpStat(text: string, section: 'DISCOVER-OFFER' | 'REQUEST-ACK', field: 'sent packets' | 'received packets' | 'drops'): number {
  const at = text.indexOf(`Statistics for: ${section}`);
  if (at < 0) return 0;
  const match = new RegExp(`${field}: (\\d+)`).exec(text.slice(at));
  return match ? Number(match[1]) : 0;
}
