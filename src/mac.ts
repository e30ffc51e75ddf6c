/**
 * MAC addresses as people write them: `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff`, Cisco's `aabb.ccdd.eeff`
 * and bare `aabbccddeeff`, in any case. Anything else is refused; a MAC is normalised to lower-case
 * colon form everywhere else in the program.
 */
const forms = [
  /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i,
  /^([0-9a-f]{2})-([0-9a-f]{2})-([0-9a-f]{2})-([0-9a-f]{2})-([0-9a-f]{2})-([0-9a-f]{2})$/i,
  /^([0-9a-f]{2})([0-9a-f]{2})\.([0-9a-f]{2})([0-9a-f]{2})\.([0-9a-f]{2})([0-9a-f]{2})$/i,
  /^([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i,
];

export const macFormsHelp = 'aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or aabbccddeeff';

/** Returns the six bytes, or undefined when the text is not a MAC in one of the accepted forms. */
export function parseMac(text: string): Uint8Array | undefined {
  for (const form of forms) {
    const match = form.exec(text.trim());
    if (match) return Uint8Array.from(match.slice(1, 7), (pair) => parseInt(pair, 16));
  }
  return undefined;
}

export function isMac(text: string): boolean {
  return parseMac(text) !== undefined;
}

export function formatMac(bytes: Uint8Array): string {
  if (bytes.length !== 6) throw new RangeError(`a MAC address has 6 bytes, got ${bytes.length}`);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** `AA-BB-...` → `aa:bb:...`; throws RangeError naming the text when it is not a MAC. */
export function normalizeMac(text: string): string {
  const bytes = parseMac(text);
  if (!bytes) throw new RangeError(`not a MAC address: ${JSON.stringify(text)} (use ${macFormsHelp})`);
  return formatMac(bytes);
}
