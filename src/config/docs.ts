/**
 * The configuration's documentation, read from the schema: each key with its description, the
 * meaning of each value, examples, type and default. config/be.example.yaml, be.yaml(5) and
 * `be config show --comments` are all rendered from this, so none of them can drift from the schema.
 */
import * as z from 'zod';
import { configSchema } from './schema.js';

export interface KeyDoc {
  /** As people read it: `tftp.port`, `hosts[].name`, `hosts[].bhyve.vm`. */
  path: string;
  /** The key itself: `port`. */
  name: string;
  description: string;
  values?: Record<string, string>;
  examples?: unknown[];
  /** What the value is: `integer, 1 to 65535`, `IPv4 address or null`. */
  type: string;
  /** Present when the key has a default (the sections' own `{}` is not shown). */
  default?: { value: unknown };
  /** The keys inside a section, a mapping, or each element of a list (then `list` is true). */
  children?: KeyDoc[];
  list?: boolean;
  /** Children that override the same keys of another section (hosts[].bhyve: bhyve). */
  overrides?: string;
}

interface Unwrapped {
  core: z.ZodType;
  meta: z.GlobalMeta;
  default?: { value: unknown };
  nullable: boolean;
}

/** Look through default, prefault, optional and nullable; the outermost description wins. */
function unwrap(schema: z.ZodType): Unwrapped {
  let core = schema;
  let meta: z.GlobalMeta = {};
  let found: { value: unknown } | undefined;
  let nullable = false;
  for (;;) {
    meta = { ...core.meta(), ...meta };
    if (core instanceof z.ZodDefault) found ??= { value: core._zod.def.defaultValue };
    else if (core instanceof z.ZodNullable) nullable = true;
    else if (!(core instanceof z.ZodPrefault || core instanceof z.ZodOptional)) break;
    core = (core as z.ZodDefault | z.ZodPrefault | z.ZodNullable | z.ZodOptional).unwrap() as z.ZodType;
  }
  // A refined or transformed value (mac, range) documents its input.
  if (core instanceof z.ZodPipe) meta = { ...(core.in as z.ZodType).meta(), ...(core.out as z.ZodType).meta(), ...meta };
  return { core, meta, ...(found ? { default: found } : {}), nullable };
}

const formats: Record<NonNullable<z.GlobalMeta['format']>, [string, string]> = {
  ipv4: ['IPv4 address', 'IPv4 addresses'],
  ip: ['IPv4 or IPv6 address', 'IPv4 or IPv6 addresses'],
  cidr: ['network in CIDR form', 'networks in CIDR form'],
  mac: ['MAC address', 'MAC addresses'],
  range: ['address range', 'address ranges'],
};

function typeOf(core: z.ZodType, meta: z.GlobalMeta, plural = false): string {
  const pick = (one: string, many: string) => (plural ? many : one);
  if (meta.format) return pick(...formats[meta.format]);
  if (core instanceof z.ZodBoolean) return pick('boolean', 'booleans');
  if (core instanceof z.ZodNumber) {
    const kind = pick(core.isInt ? 'integer' : 'number', core.isInt ? 'integers' : 'numbers');
    return core.minValue !== null && core.maxValue !== null ? `${kind}, ${core.minValue} to ${core.maxValue}` : kind;
  }
  if (core instanceof z.ZodEnum) {
    const options = core.options.map(String);
    return `${options.slice(0, -1).join(', ')} or ${options.at(-1)}`;
  }
  if (core instanceof z.ZodArray) {
    const element = unwrap(core.element as z.ZodType);
    return `list of ${typeOf(element.core, element.meta, true)}`;
  }
  if (core instanceof z.ZodObject || core instanceof z.ZodRecord) return pick('mapping', 'mappings');
  if (core instanceof z.ZodString) return pick('string', 'strings');
  return pick('value', 'values');
}

function keyDoc(name: string, schema: z.ZodType, parent: string): KeyDoc {
  const { core, meta, default: found, nullable } = unwrap(schema);
  const path = parent === '' ? name : `${parent}.${name}`;
  const type = typeOf(core, meta) + (nullable ? ' or null' : '');
  const doc: KeyDoc = { path, name, description: meta.description ?? '', type };
  if (meta.values) doc.values = meta.values;
  if (meta.examples) doc.examples = meta.examples;
  if (meta.overrides) doc.overrides = meta.overrides;
  if (core instanceof z.ZodObject) doc.children = keysOf(core, path);
  else if (core instanceof z.ZodArray && core.element instanceof z.ZodObject) {
    doc.children = keysOf(core.element, `${path}[]`);
    doc.list = true;
  }
  // A section's default is its keys' defaults; `{}` would say nothing.
  if (found && !(core instanceof z.ZodObject)) doc.default = found;
  return doc;
}

function keysOf(object: z.ZodObject, parent: string): KeyDoc[] {
  return Object.entries(object.shape).map(([name, schema]) => keyDoc(name, schema as z.ZodType, parent));
}

let cached: KeyDoc[] | undefined;

/** Every section of the configuration, in the schema's order, with its keys. */
export function configDocs(): KeyDoc[] {
  cached ??= keysOf(configSchema, '');
  return cached;
}

/** Every key, depth first: sections, their keys, and the keys of list elements and mappings. */
export function allKeys(docs: readonly KeyDoc[] = configDocs()): KeyDoc[] {
  return docs.flatMap((doc) => [doc, ...allKeys(doc.children ?? [])]);
}
