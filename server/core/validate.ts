import type { z } from 'zod';
import { AppError } from './errors.js';

/** Parse input at the edge with a shared schema; a failure names each bad field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const path = issue.path.length ? issue.path.map(String).join('.') : '_';
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) fields[path === '_' ? key : `${path}.${key}`] = 'Unknown field';
      continue;
    }
    fields[path] ??= issue.message;
  }
  return fail(fields);
}

function fail(fields: Record<string, string>): never {
  const names = Object.keys(fields).filter((f) => f !== '_');
  throw new AppError(
    'invalid_request',
    400,
    names.length ? `Invalid fields: ${names.join(', ')}` : (fields._ ?? 'Invalid request'),
    fields,
  );
}
