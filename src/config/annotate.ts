/**
 * A configuration as YAML with each key's description from the schema above it: config/be.example.yaml
 * (the defaults, with example hosts) and `be config show --comments` (the effective configuration).
 */
import { Document, isMap, isScalar, stringify, type Pair, type YAMLMap } from 'yaml';
import { blocks, wrap } from '../man/markup.js';
import { configDocs, type KeyDoc } from './docs.js';
import { configSchema } from './schema.js';

/** Comment lines end before this column, as the hand-written example's did. */
const width = 110;

/** A value as it reads on one line of YAML: `null`, `[]`, `/var/db/be`, `{ a: 1 }`. */
export function flowYaml(value: unknown): string {
  return stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The markup of a description as comment lines of at most `columns` characters. */
export function commentLines(markup: string, columns: number): string[] {
  return blocks(markup).flatMap((block) => {
    if (block.kind === 'literal') return block.lines.map((line) => `  ${line}`);
    if (block.kind === 'list') return block.items.flatMap((item) => hanging('- ', item, columns));
    return wrap(block.text, columns);
  });
}

/** `label` then the text, wrapped lines indented to where the text starts. */
function hanging(label: string, text: string, columns: number): string[] {
  const lines = wrap(text, Math.max(20, columns - label.length));
  return lines.map((line, index) => (index === 0 ? label : ' '.repeat(label.length)) + line);
}

/** An example of a key, as it would be written in the file, below the key's comment. */
function exampleLines(doc: KeyDoc, example: unknown): string[] {
  if (Array.isArray(example) && example.length > 0) return [`${doc.name}:`, ...example.map((item) => `  - ${flowYaml(item)}`)];
  return [`${doc.name}: ${flowYaml(example)}`];
}

/** The comment above a key: its description, what its values mean, and what differs from the default. */
function keyComment(doc: KeyDoc, value: unknown, columns: number): string[] {
  const lines = commentLines(doc.description, columns);
  for (const [name, meaning] of Object.entries(doc.values ?? {})) lines.push(...hanging(`${name}: `, meaning, columns));
  const isDefault = doc.default !== undefined && sameValue(value, doc.default.value);
  if (doc.default && !isDefault) lines.push(`Default: ${flowYaml(doc.default.value)}.`);
  if (isDefault) for (const example of doc.examples ?? []) lines.push('e.g.', ...exampleLines(doc, example).map((line) => `  ${line}`));
  if (doc.list && doc.children) lines.push('Each entry:', ...entryLines(doc.children, '  ', columns));
  return lines;
}

/** The keys of a list's entries, one under the other; a mapping's own keys below it (not those it only overrides). */
function entryLines(children: readonly KeyDoc[], indent: string, columns: number): string[] {
  const pad = Math.max(...children.map((child) => child.name.length)) + 2;
  return children.flatMap((child) => {
    const own = (child.children ?? []).filter((grandchild) => !child.overrides || !overridden(child.overrides, grandchild.name));
    const below = own.length > 0 ? entryLines(own, `${indent}  `, columns) : [];
    return [...hanging(`${indent}${`${child.name}:`.padEnd(pad)}`, entryText(child), columns), ...below];
  });
}

function overridden(section: string, name: string): boolean {
  return configDocs().some((doc) => doc.name === section && doc.children?.some((child) => child.name === name));
}

/** One key of a list's entries, on a line or two: description, values, default. */
function entryText(doc: KeyDoc): string {
  const values = Object.entries(doc.values ?? {}).map(([name, meaning]) => `${name}: ${meaning}`);
  const fallback = doc.default ? [`Default: ${flowYaml(doc.default.value)}.`] : [];
  return [doc.description.replace(/\n\n[\s\S]*$/, ''), ...values, ...fallback].join(' ');
}

function annotate(map: YAMLMap, docs: readonly KeyDoc[], values: Record<string, unknown>, indent: number): void {
  map.items.forEach((item, index) => {
    const pair = item as Pair;
    if (!isScalar(pair.key)) return;
    const name = String(pair.key.value);
    const doc = docs.find((d) => d.name === name);
    if (!doc) return;
    const lines = keyComment(doc, values[name], width - indent - 2);
    if (lines.length > 0) pair.key.commentBefore = lines.map((line) => ` ${line}`).join('\n');
    // A blank line between sections, none before the first (it follows the header).
    if (indent === 0 && index > 0) pair.key.spaceBefore = true;
    if (isMap(pair.value) && doc.children && !doc.list) annotate(pair.value, doc.children, values[name] as Record<string, unknown>, indent + 2);
  });
}

/** `value` (a whole configuration, or a part of one) as YAML, every key under its comment. */
export function annotatedYaml(value: Record<string, unknown>, header: readonly string[]): string {
  const document = new Document(value);
  document.commentBefore = header.map((line) => ` ${line}`).join('\n');
  if (isMap(document.contents)) annotate(document.contents, configDocs(), value, 0);
  return document.toString();
}

export const exampleHeader = [
  'be.yaml: the configuration of be, the network-boot appliance for FreeBSD boot environments.',
  'Copy to /usr/local/etc/be.yaml (the default location) or pass with `be -c FILE`.',
  'Every key is optional: the value shown is its default unless the comment says otherwise.',
  'Any key can be overridden on the command line: `be --set tftp.port=6969 --set dhcp.mode=off serve`.',
  'Check a file with `be -c FILE config check`; see the effective result with `be config show --comments`.',
  'Made by `npm run docs` from the schema (src/config/schema.ts): change the descriptions there, not here.',
];

/** config/be.example.yaml: every default, and the schema's example hosts. */
export function exampleYaml(): string {
  const hosts = configDocs().find((doc) => doc.name === 'hosts')?.examples?.[0];
  return annotatedYaml({ ...configSchema.parse({}), hosts }, exampleHeader);
}
