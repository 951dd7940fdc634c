// The desktop glue, tested without the Electron binary (it cannot be downloaded here): the
// hardened window factory's output, the IPC binding (every contract method bound, untrusted
// frames refused, field errors), and the built preload bundle run against a recording bridge.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserWindowConstructorOptions } from 'electron';
import { createAdminHandlers } from '../../server/admin';
import { ADMIN_METHOD_NAMES } from '../../server/contract/admin-api';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { bindAdminApi, channelFor, forwardEvents } from '../../electron/ipc';
import { APP_ORIGIN, createMainWindow, DESKTOP_CSP, isAllowedExternalUrl, rendererFile } from '../../electron/window';
import { startTestApp, type TestApp } from '../helpers/test-app';

describe('window factory', () => {
  class RecordingWindow {
    static last: BrowserWindowConstructorOptions | null = null;
    constructor(options: BrowserWindowConstructorOptions) {
      RecordingWindow.last = options;
    }
  }

  it('makes windows with context isolation, a sandbox and no Node', () => {
    createMainWindow(RecordingWindow, '/app/preload.js');
    expect(RecordingWindow.last?.webPreferences).toMatchObject({
      preload: '/app/preload.js', contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false, webSecurity: true, allowRunningInsecureContent: false, webviewTag: false, experimentalFeatures: false,
    });
  });

  it('has a strict CSP that Fluent UI runtime styles still work with', () => {
    expect(DESKTOP_CSP).toContain("default-src 'self'");
    expect(DESKTOP_CSP).toContain("script-src 'self'");
    expect(DESKTOP_CSP).not.toMatch(/script-src[^;]*unsafe/);
    expect(DESKTOP_CSP).toContain("style-src 'self' 'unsafe-inline'");
    expect(DESKTOP_CSP).toContain("object-src 'none'");
  });

  it('opens only https links outside, and serves only files of the renderer build', () => {
    expect(isAllowedExternalUrl('https://login.microsoftonline.com/x')).toBe(true);
    for (const url of ['http://example.com', 'file:///etc/passwd', 'javascript:alert(1)', 'relaydesk://app/x', 'not a url']) expect(isAllowedExternalUrl(url)).toBe(false);
    expect(rendererFile('/r/dist', `${APP_ORIGIN}/assets/index.js`)).toBe(path.join('/r/dist', 'assets', 'index.js'));
    expect(rendererFile('/r/dist', `${APP_ORIGIN}/..%2F..%2Fetc%2Fpasswd`)).toBe(path.join('/r/dist', 'index.html'));
  });
});

describe('IPC binding', () => {
  let t: TestApp;
  const handlers = new Map<string, (event: unknown, input: unknown) => Promise<unknown>>();
  const ipc = {
    handle: (channel: string, listener: (event: unknown, input: unknown) => Promise<unknown>) => { handlers.set(channel, listener); },
    removeHandler: (channel: string) => { handlers.delete(channel); },
  };
  const ourWindow = { id: 7 };
  const fromOurWindow = { sender: { id: 7 }, senderFrame: { parent: null, url: `${APP_ORIGIN}/index.html` } };

  beforeAll(async () => {
    t = await startTestApp();
    bindAdminApi(ipc as never, createAdminHandlers(t.app), () => ourWindow);
  });
  afterAll(() => t.close());

  it('binds every contract method, one channel each', () => {
    expect([...handlers.keys()].sort()).toEqual(ADMIN_METHOD_NAMES.map(channelFor).sort());
  });

  it('answers our main frame with { ok, value }', async () => {
    const result = await handlers.get(channelFor('servers.get'))?.(fromOurWindow, { name: DEFAULT_SERVER_NAME });
    expect(result).toMatchObject({ ok: true, value: { name: DEFAULT_SERVER_NAME } });
  });

  it('refuses other windows, sub-frames and other origins', async () => {
    const call = (event: unknown) => handlers.get(channelFor('servers.list'))?.(event, {});
    const forbidden = { ok: false, error: { code: 'forbidden' } };
    expect(await call({ ...fromOurWindow, sender: { id: 8 } })).toMatchObject(forbidden);
    expect(await call({ ...fromOurWindow, senderFrame: { parent: {}, url: `${APP_ORIGIN}/index.html` } })).toMatchObject(forbidden);
    expect(await call({ ...fromOurWindow, senderFrame: { parent: null, url: 'https://evil.example/' } })).toMatchObject(forbidden);
    expect(await call({ ...fromOurWindow, senderFrame: null })).toMatchObject(forbidden);
  });

  it('gives field errors for bad arguments and changes nothing', async () => {
    const result = await handlers.get(channelFor('servers.update'))?.(fromOurWindow, { name: DEFAULT_SERVER_NAME, patch: { port: -1 } });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid', field: 'port' } });
    expect(await handlers.get(channelFor('users.add'))?.(fromOurWindow, { name: 'x y', password: 'long-enough-1' })).toMatchObject({ ok: false, error: { field: 'name' } });
    expect(t.app.store.listUsers()).toEqual([]);
  });

  it('forwards events to the window while it exists', () => {
    const sent: unknown[] = [];
    let destroyed = false;
    const stop = forwardEvents(t.app.bus, () => ({ send: (_channel: string, event: unknown) => sent.push(event), isDestroyed: () => destroyed }));
    t.app.bus.emit({ type: 'warning', at: 'now', message: 'one' });
    destroyed = true;
    t.app.bus.emit({ type: 'warning', at: 'now', message: 'two' });
    stop();
    expect(sent).toEqual([{ type: 'warning', at: 'now', message: 'one' }]);
  });
});

describe('preload bundle', () => {
  it('exposes exactly the contract methods through contextBridge, and refuses others', async () => {
    const bundle = path.resolve(__dirname, '..', '..', 'dist', 'electron-preload', 'preload.js');
    const exposed: Record<string, { call(method: string, input: unknown): Promise<unknown>; methods: string[] }> = {};
    const invoked: Array<[string, unknown]> = [];
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: never) => { exposed[key] = api; } },
      ipcRenderer: { invoke: async (channel: string, input: unknown) => { invoked.push([channel, input]); return { ok: true, value: null }; }, on: () => undefined, removeListener: () => undefined },
    };
    const module = { exports: {} };
    const sandboxRequire = (name: string) => {
      if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
      return electron;
    };
    vm.runInNewContext(fs.readFileSync(bundle, 'utf8'), { require: sandboxRequire, module, exports: module.exports, console });
    expect(Object.keys(exposed)).toEqual(['relaydesk']);
    const bridge = exposed.relaydesk;
    expect(bridge?.methods.sort()).toEqual([...ADMIN_METHOD_NAMES].sort());
    await bridge?.call('servers.list', {});
    expect(invoked).toEqual([[channelFor('servers.list'), {}]]);
    expect(await bridge?.call('toString', {})).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(invoked).toHaveLength(1);
  });
});
