import type { z } from 'zod';
import { problems, type FieldError } from './problem.js';

/** Parses input with a schema; a failure becomes a 422 listing every field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors: FieldError[] = result.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : '(body)',
    message: issue.message,
  }));
  throw problems.validation(errors);
}
