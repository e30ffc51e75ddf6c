/**
 * Every key of the configuration schema, found by walking it here rather than with src/config/docs.ts,
 * so a key that walker misses fails the tests that check the generated files against this list.
 */
import * as z from 'zod';
import { configSchema } from '../../../src/config/schema.js';

function inner(schema: z.ZodType): z.ZodType {
  let core = schema;
  while (core instanceof z.ZodDefault || core instanceof z.ZodPrefault || core instanceof z.ZodOptional || core instanceof z.ZodNullable) {
    core = core.unwrap() as z.ZodType;
  }
  return core;
}

function keysOf(object: z.ZodObject, prefix: string): string[] {
  return Object.entries(object.shape).flatMap(([name, schema]) => {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const core = inner(schema as z.ZodType);
    if (core instanceof z.ZodObject) return [path, ...keysOf(core, path)];
    if (core instanceof z.ZodArray && core.element instanceof z.ZodObject) return [path, ...keysOf(core.element, `${path}[]`)];
    return [path];
  });
}

/** `server`, `server.address`, ..., `hosts`, `hosts[].name`, ..., `hosts[].bhyve.vm`, ... */
export function schemaKeys(): string[] {
  return keysOf(configSchema, '');
}
