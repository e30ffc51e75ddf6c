/**
 * be.yaml(5), from the schema's documentation (src/config/docs.ts): a subsection per section, an item
 * per key with its type, description, values, default and examples; and the DHCP option table.
 * What the schema cannot say comes from src/man/be-yaml5-prose.ts.
 */
import { stringify } from 'yaml';
import { flowYaml } from '../config/annotate.js';
import { allKeys, configDocs, type KeyDoc } from '../config/docs.js';
import { optionTable, type OptionType } from '../dhcp/options.js';
import { arg, inline, render, textLine, type InlineContext } from './mdoc.js';
import { seeAlso, title } from './page.js';
import * as prose from './be-yaml5-prose.js';

const keys = new Set(allKeys().map((key) => key.path));
const context: InlineContext = { keys, self: 'be.yaml(5)' };

/** What a value of each option type is written as (the forms src/dhcp/options.ts encodeValue takes). */
const optionValues: Record<OptionType, string> = {
  ip: 'IPv4 address',
  ips: 'list of IPv4 addresses',
  u8: 'integer, 0 to 255',
  u16: 'integer, 0 to 65535',
  u32: 'integer, 0 to 4294967295',
  i32: 'signed 32-bit integer',
  bool: 'true or false',
  string: 'string',
  bytes: 'hex bytes, e.g. 01:02:0a',
  u8s: 'list of integers, 0 to 255',
  u16s: 'list of integers, 0 to 65535',
};

function literal(text: string): string[] {
  return ['.Bd -literal -offset indent', ...text.trimEnd().split('\n').map(textLine), '.Ed'];
}

/** An example of a key, nested in its sections as it is written in the file. */
function exampleText(doc: KeyDoc, example: unknown): string {
  const nested = doc.path
    .split('.')
    .reverse()
    .reduce<unknown>((value, name) => ({ [name]: value }), example);
  return stringify(nested);
}

function keyItem(doc: KeyDoc, overrides?: string): string[] {
  const lines = [`.It Va ${arg(doc.path)} Pq ${arg(doc.type)}`];
  const overridden = overrides !== undefined && keys.has(`${overrides}.${doc.name}`) ? `${overrides}.${doc.name}` : undefined;
  lines.push(...render(overridden ? `Overrides \`${overridden}\` for this host.` : doc.description, context));
  const values = Object.entries(doc.values ?? {});
  if (values.length > 0)
    lines.push('.Bl -tag -width Ds', ...values.flatMap(([value, meaning]) => [`.It Cm ${arg(value)}`, ...inline(meaning, context)]), '.El');
  lines.push(...defaultAndExamples(doc));
  return [...lines, ...(doc.children ?? []).flatMap((child) => keyItem(child, doc.overrides))];
}

function defaultAndExamples(doc: KeyDoc): string[] {
  const lines = doc.default ? ['.Pp', ...inline(`Default: \`${flowYaml(doc.default.value)}\`.`, context)] : [];
  for (const example of doc.examples ?? []) lines.push('.Pp', 'For example:', ...literal(exampleText(doc, example)));
  return lines;
}

function section(doc: KeyDoc): string[] {
  // hosts is a list as well as a section: its own default and example come first, its entries' keys are the items.
  const head = [...render(doc.description, context), ...(doc.list ? defaultAndExamples(doc) : [])];
  const items = (doc.children ?? []).flatMap((child) => keyItem(child, doc.overrides));
  return [`.Ss ${doc.name}`, ...head, '.Bl -tag -width Ds', ...items, '.El'];
}

function optionTableLines(): string[] {
  const widest = (texts: string[]) => texts.reduce((a, b) => (b.length > a.length ? b : a), '');
  const values = Object.values(optionValues);
  return [
    `.Bl -column ${arg(widest(optionTable.map((o) => o.name)))} Code ${arg(widest(values))}`,
    '.It Sy Name Ta Sy Code Ta Sy Value',
    ...optionTable.map((option) => `.It Li ${arg(option.name)} Ta ${option.code} Ta ${arg(optionValues[option.type])}`),
    '.El',
  ];
}

export function beYamlManual(): string {
  const lines = [
    ...title('be.yaml', 5, ['.Nd configuration file of', '.Xr be 8']),
    '.Sh DESCRIPTION',
    ...render(prose.description, context),
    ...configDocs().flatMap(section),
    '.Sh DHCP OPTIONS',
    ...render(prose.dhcpOptions, context),
    ...optionTableLines(),
    '.Sh FILES',
    '.Bl -tag -width Ds',
    ...prose.files.flatMap(([path, text]) => [`.It Pa ${arg(path)}`, ...inline(text, context)]),
    '.El',
    '.Sh EXAMPLES',
    ...prose.examples.flatMap(([text, yaml], index) => [...(index > 0 ? ['.Pp'] : []), ...inline(text, context), ...literal(yaml)]),
    ...seeAlso(prose.seeAlso),
  ];
  return `${lines.join('\n')}\n`;
}
