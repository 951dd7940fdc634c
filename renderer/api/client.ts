// The renderer's one way to the server: an AdminApi client over Electron IPC (window.relaydesk,
// exposed by the preload) or over HTTP to the headless console. Typed by the contract; failures
// arrive as ApiFailure with the server's message and the field it concerns.
import type { AdminApi, AdminMethodName, ApiError, ApiResult, MethodInput, MethodOutput, RelaydeskEvent } from '../../server/contract/admin-api';

export class ApiFailure extends Error {
  constructor(public readonly error: ApiError) {
    super(error.message);
  }
}

/** What the Electron preload exposes (see electron/preload.ts). */
export interface DesktopBridge {
  call(method: string, input: unknown): Promise<ApiResult<unknown>>;
  onEvent(listener: (event: RelaydeskEvent) => void): () => void;
}

declare global {
  interface Window { relaydesk?: DesktopBridge }
}

export interface Transport {
  call(method: AdminMethodName, input: unknown): Promise<ApiResult<unknown>>;
  subscribe(listener: (event: RelaydeskEvent) => void): () => void;
}

let csrfToken = '';
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export const webTransport: Transport = {
  async call(method, input) {
    const response = await fetch(`./api/call/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
      body: JSON.stringify(input ?? {}),
      credentials: 'same-origin',
    });
    if (response.status === 401) return { ok: false, error: { code: 'unauthorized', message: 'Your console session ended; sign in again.' } };
    return (await response.json()) as ApiResult<unknown>;
  },
  subscribe(listener) {
    const source = new EventSource('./api/events');
    source.onmessage = (message) => listener(JSON.parse(message.data as string) as RelaydeskEvent);
    return () => source.close();
  },
};

export function desktopTransport(bridge: DesktopBridge): Transport {
  return { call: (method, input) => bridge.call(method, input), subscribe: (listener) => bridge.onEvent(listener) };
}

/** An AdminApi whose every method goes through the transport; unknown names cannot be typed. */
export function createClient(transport: Transport): AdminApi {
  return new Proxy({} as AdminApi, {
    get(_target, property) {
      return async <M extends AdminMethodName>(input: MethodInput<M>): Promise<MethodOutput<M>> => {
        const result = await transport.call(property as M, input);
        if (!result.ok) throw new ApiFailure(result.error);
        return result.value as MethodOutput<M>;
      };
    },
  });
}

export const isDesktop = (): boolean => typeof window !== 'undefined' && Boolean(window.relaydesk);
export const transport: Transport = isDesktop() ? desktopTransport(window.relaydesk as DesktopBridge) : webTransport;
export const api: AdminApi = createClient(transport);

/** Console sign-in (web only). */
export async function consoleSession(): Promise<{ authenticated: boolean; csrf: string | null; setupRequired: boolean }> {
  const response = await fetch('./api/session', { credentials: 'same-origin' });
  const result = (await response.json()) as ApiResult<{ authenticated: boolean; csrf: string | null; setupRequired: boolean }>;
  if (!result.ok) throw new ApiFailure(result.error);
  return result.value;
}

export async function signIn(path: 'login' | 'setup', body: { password: string; token?: string }): Promise<void> {
  const response = await fetch(`./api/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
  const result = (await response.json()) as ApiResult<{ csrf: string }>;
  if (!result.ok) throw new ApiFailure(result.error);
  setCsrfToken(result.value.csrf);
}

export async function signOut(): Promise<void> {
  await fetch('./api/logout', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken }, body: '{}', credentials: 'same-origin' });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function errorField(err: unknown): string | undefined {
  return err instanceof ApiFailure ? err.error.field : undefined;
}
