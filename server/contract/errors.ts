// Errors that cross the AdminApi and the CLI: a code, a message a person can act on, and the
// field it concerns. Pure: shared by the server and the UI.
import type { z } from 'zod';

export type ErrorCode = 'invalid' | 'conflict' | 'not-found' | 'unavailable' | 'internal';

export class AdminError extends Error {
  constructor(public readonly code: ErrorCode, message: string, public readonly field?: string) {
    super(message);
    this.name = 'AdminError';
  }
}

/** The first issue of a zod error as an AdminError naming the field ("users[2].name: must not be empty"). */
export function fromZodError(error: z.ZodError, prefix = ''): AdminError {
  const issue = error.issues[0];
  if (!issue) return new AdminError('invalid', 'invalid input');
  const path = issue.path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join('');
  const field = [prefix, path].filter(Boolean).join(prefix && path && !path.startsWith('[') ? '.' : '');
  return new AdminError('invalid', field ? `${field}: ${issue.message}` : issue.message, field || undefined);
}

/** Parse with a schema or throw an AdminError naming the field; nothing has been written yet. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZodError(result.error, prefix);
  return result.data;
}
