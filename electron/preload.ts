// The preload of the sandboxed renderer: exposes window.relaydesk = { call, onEvent } built from
// the contract's method list, and nothing else. Bundled into one file (sandboxed preloads cannot
// require local modules), see electron/vite.preload.config.mts.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { ADMIN_METHOD_NAMES } from '../server/contract/admin-api';
import type { RelaydeskEvent } from '../server/contract/events';
import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL } from './ipc-channels';

const METHODS = new Set<string>(ADMIN_METHOD_NAMES);

export const bridge = {
  call(method: string, input: unknown): Promise<unknown> {
    if (!METHODS.has(method)) return Promise.resolve({ ok: false, error: { code: 'not-found', message: `no AdminApi method ${method}` } });
    return ipcRenderer.invoke(`${CALL_CHANNEL_PREFIX}${method}`, input);
  },
  onEvent(listener: (event: RelaydeskEvent) => void): () => void {
    const wrapped = (_event: IpcRendererEvent, payload: RelaydeskEvent) => listener(payload);
    ipcRenderer.on(EVENT_CHANNEL, wrapped);
    return () => { ipcRenderer.removeListener(EVENT_CHANNEL, wrapped); };
  },
  methods: [...METHODS],
};

contextBridge.exposeInMainWorld('relaydesk', bridge);
