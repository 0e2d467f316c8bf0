import type { z } from 'zod';
import { AppError } from './errors.js';

/** Parse input at the edge with a shared schema; a failure names each bad field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // A Map, not an object literal: a body key such as `__proto__` (which JSON.parse keeps as an
  // own key, and a strict schema refuses) would otherwise be assigned to the literal's
  // prototype and vanish, and `constructor` or `toString` would look present already to `??=`.
  // Then the answer named no field at all ("Nothing to change") for the one key it refused.
  const fields = new Map<string, string>();
  for (const issue of result.error.issues) {
    const path = issue.path.length ? issue.path.map(String).join('.') : '_';
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) fields.set(path === '_' ? key : `${path}.${key}`, 'Unknown field');
      continue;
    }
    if (!fields.has(path)) fields.set(path, issue.message);
  }
  return fail(fields);
}

function fail(fields: Map<string, string>): never {
  const names = [...fields.keys()].filter((f) => f !== '_');
  throw new AppError(
    'invalid_request',
    400,
    names.length ? `Invalid fields: ${names.join(', ')}` : (fields.get('_') ?? 'Invalid request'),
    // Object.fromEntries defines own properties, so `__proto__` stays a field of the answer.
    Object.fromEntries(fields),
  );
}
