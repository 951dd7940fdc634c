// Every AdminApi method bound to ipcMain.handle from the contract's method table: the sender is
// checked (our window's main frame only), the argument is parsed by the contract's schema, and
// the result comes back as { ok, value } or { ok: false, error }. Events go to the window.
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { ADMIN_METHOD_NAMES, type AdminApiHandlers, type AdminMethodName, type ApiResult } from '../server/contract/admin-api';
import { callMethod } from '../server/admin-dispatch';
import type { EventBus } from '../server/log/event-bus';
import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL } from './ipc-channels';
import { APP_ORIGIN } from './window';

export { CALL_CHANNEL_PREFIX, EVENT_CHANNEL };

export function channelFor(method: AdminMethodName): string {
  return `${CALL_CHANNEL_PREFIX}${method}`;
}

/** A request counts only from the main frame of our own window, loaded from our own origin. */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>, window: Pick<WebContents, 'id'> | null): boolean {
  const frame = event.senderFrame;
  if (!window || !frame || event.sender.id !== window.id) return false;
  if (frame.parent !== null) return false;
  try {
    // URL.origin is the opaque "null" for a custom scheme, so scheme and host are compared.
    const url = new URL(frame.url);
    const ours = new URL(APP_ORIGIN);
    return url.protocol === ours.protocol && url.host === ours.host;
  } catch {
    return false;
  }
}

type Handle = Pick<IpcMain, 'handle' | 'removeHandler'>;

export function bindAdminApi(ipc: Handle, handlers: AdminApiHandlers, trustedWindow: () => Pick<WebContents, 'id'> | null): () => void {
  for (const method of ADMIN_METHOD_NAMES) {
    ipc.handle(channelFor(method), async (event, input: unknown): Promise<ApiResult<unknown>> => {
      if (!isTrustedSender(event, trustedWindow())) return { ok: false, error: { code: 'forbidden', message: 'request from an untrusted frame' } };
      return callMethod(handlers, method, input);
    });
  }
  return () => ADMIN_METHOD_NAMES.forEach((method) => ipc.removeHandler(channelFor(method)));
}

/** Forward server events to the window while it exists. */
export function forwardEvents(bus: EventBus, target: () => Pick<WebContents, 'send' | 'isDestroyed'> | null): () => void {
  return bus.subscribe((event) => {
    const contents = target();
    if (contents && !contents.isDestroyed()) contents.send(EVENT_CHANNEL, event);
  });
}
