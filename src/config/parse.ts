/**
 * Configuration text → validated Config. Pure: the caller reads the file (services/config.ts).
 * Errors are one line naming the key, the bad value and where it came from (file:line or --set),
 * because a boot server misconfigured at 3 a.m. should say exactly what to fix.
 */
import { isMap, isScalar, LineCounter, parseDocument, parse as parseYaml, type Document, type Node } from 'yaml';
import type * as z from 'zod';
import { BeError } from '../errors.js';
import { configSchema, type Config } from './schema.js';

export interface ConfigSource {
  /** The YAML text; empty means "all defaults". */
  text: string;
  /** The file name used in messages. */
  file: string;
}

type Path = (string | number)[];

/** `hosts.0.mac` → `hosts[0].mac`, the way people read it. */
export function formatKey(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`)).join('');
}

function splitKey(key: string): Path {
  return key.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** The value of `--set key=value` is read as a YAML scalar or flow collection, so `true`, `69`, `[a, b]` and `null` mean what they say. */
function parseOverrideValue(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return text;
  }
}

export interface Override {
  path: Path;
  value: unknown;
  text: string;
}

export function parseOverride(assignment: string): Override {
  const eq = assignment.indexOf('=');
  const key = eq > 0 ? assignment.slice(0, eq) : '';
  if (!/^[A-Za-z_][\w]*(\.(\w+))*$/.test(key)) {
    throw new BeError('E_USAGE', `--set ${JSON.stringify(assignment)}: expected dotted.key=value`);
  }
  return { path: splitKey(key), value: parseOverrideValue(assignment.slice(eq + 1)), text: assignment };
}

function applyOverride(target: Record<string, unknown>, override: Override): void {
  let node: Record<string | number, unknown> = target;
  override.path.forEach((part, index) => {
    if (index === override.path.length - 1) {
      node[part] = override.value;
      return;
    }
    const next = node[part];
    if (next === null || typeof next !== 'object') {
      node[part] = typeof override.path[index + 1] === 'number' ? [] : {};
    }
    node = node[part] as Record<string | number, unknown>;
  });
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((part, i) => part === path[i]);
}

function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[], unknownKey?: string): number | undefined {
  let node: unknown = doc.getIn(path as Path, true);
  if (unknownKey !== undefined && isMap(node)) {
    node = node.items.find((pair) => isScalar(pair.key) && pair.key.value === unknownKey)?.key;
  }
  const range = (node as Node | undefined)?.range;
  return range ? lines.linePos(range[0]).line : undefined;
}

function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Parse, apply `--set` overrides, validate. Throws BeError('E_CONFIG') with one line. */
export function parseConfig(source: ConfigSource, overrides: readonly Override[] = []): Config {
  const lines = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const where = yamlError.linePos?.[0]?.line ?? lines.linePos(yamlError.pos[0]).line;
    const reason = yamlError.message.split('\n')[0] ?? yamlError.code;
    throw new BeError('E_CONFIG', `${source.file}:${where}: invalid YAML: ${reason}`);
  }
  const raw: unknown = doc.toJS() ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BeError('E_CONFIG', `${source.file}: the configuration must be a mapping of keys, got ${show(raw)}`);
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  for (const override of overrides) applyOverride(merged, override);

  const result = configSchema.safeParse(merged);
  if (result.success) return result.data;
  throw new BeError('E_CONFIG', describeIssue(result.error.issues[0]!, merged, doc, lines, source, overrides));
}

function describeIssue(
  issue: z.core.$ZodIssue,
  merged: unknown,
  doc: Document,
  lines: LineCounter,
  source: ConfigSource,
  overrides: readonly Override[],
): string {
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path = unknownKey === undefined ? issue.path : [...issue.path, unknownKey];
  const key = formatKey(path) || '(top level)';
  const fromOverride = [...overrides].reverse().find((o) => startsWith(path, o.path) || startsWith(o.path, path));
  let where: string;
  if (fromOverride) where = `--set ${fromOverride.text}`;
  else {
    const line = lineOf(doc, lines, issue.path, unknownKey);
    where = line === undefined ? source.file : `${source.file}:${line}`;
  }
  if (unknownKey !== undefined) return `${where}: unknown key ${key}`;
  return `${where}: ${key} = ${show(valueAt(merged, path))}: ${issue.message}`;
}
