// The one way a transport (Electron IPC, the web console) calls the AdminApi: look the method up
// in the contract, parse the argument with its schema, call the handler, and wrap the outcome as
// { ok, value } or { ok: false, error: { code, message, field } }. Nothing throws across it.
import { ADMIN_METHODS, type AdminApiHandlers, type AdminMethodName, type ApiResult } from './contract/admin-api';
import { AdminError, fromZodError } from './contract/errors';

export function isAdminMethod(name: unknown): name is AdminMethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(ADMIN_METHODS, name);
}

/** Parse the argument with the contract's schema, call the handler, wrap the outcome. Shared by every transport. */
export async function callMethod(handlers: AdminApiHandlers, name: AdminMethodName, input: unknown): Promise<ApiResult<unknown>> {
  const parsed = ADMIN_METHODS[name].input.safeParse(input ?? {});
  if (!parsed.success) {
    const error = fromZodError(parsed.error);
    return { ok: false, error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } };
  }
  try {
    const handler = handlers[name] as (arg: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(parsed.data) };
  } catch (err) {
    if (err instanceof AdminError) return { ok: false, error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
    return { ok: false, error: { code: 'internal', message: (err as Error).message } };
  }
}

