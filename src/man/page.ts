/** What both manual pages share: the title lines and SEE ALSO. */
import { macro } from './mdoc.js';

/** The date the pages carry (.Dd): change it with what they say. */
export const manualDate = 'December 1, 2026';

export function title(name: string, section: number, description: string[]): string[] {
  return [`.Dd ${manualDate}`, `.Dt ${name.toUpperCase()} ${section}`, '.Os', '.Sh NAME', macro('Nm', name), ...description];
}

/** `name(section)` references, in the order mandoc expects: by section, then by name. */
export function seeAlso(references: readonly string[]): string[] {
  const parsed = references.map((ref) => {
    const match = /^(.+)\((\d)\)$/.exec(ref);
    if (!match) throw new Error(`not a manual reference: ${ref}`);
    return { name: match[1]!, section: Number(match[2]) };
  });
  parsed.sort((a, b) => a.section - b.section || a.name.localeCompare(b.name));
  return ['.Sh SEE ALSO', ...parsed.map((ref, index) => `${macro('Xr', ref.name, String(ref.section))}${index < parsed.length - 1 ? ' ,' : ''}`)];
}
