// A Relaydesk app in a temp folder on a free loopback port: the real store, engine and spool.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, type AppOptions } from '../../server/app';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import type { VirtualServerPatch } from '../../server/store/store';

export interface TestApp {
  app: App;
  dir: string;
  port: number;
  server: string;
  /** PEM of the server's certificate, to verify TLS against. */
  caPem: string;
  close(): Promise<void>;
}

export function tempDir(prefix = 'relaydesk-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestAppOptions extends Partial<AppOptions> {
  /** Changes to the default server before start. */
  server?: VirtualServerPatch;
  users?: Array<{ name: string; password: string; senders?: string[]; cramMd5?: boolean }>;
  domains?: string[];
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = options.dataDir ?? tempDir();
  const app = new App({ firstStartPort: 0, ...options, dataDir: dir });
  await app.ensureDefaults();
  // Mail for other domains stays queued in tests unless a test delivers it (no real MX here).
  app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { holdRemote: true } });
  if (options.server) app.store.updateServer(DEFAULT_SERVER_NAME, options.server);
  for (const user of options.users ?? []) await app.addUser(user.name, user.password, user);
  for (const domain of options.domains ?? []) app.store.addAcceptedDomain({ domain, action: 'drop', forwardTo: null });
  await app.start();
  return wrap(app, dir);
}

export function wrap(app: App, dir: string): TestApp {
  const status = app.engine.status().find((s) => s.name === DEFAULT_SERVER_NAME);
  const port = status?.listening.find((l) => l.mode === 'starttls')?.port ?? 0;
  const certName = app.store.getServer(DEFAULT_SERVER_NAME).certificate;
  const caPem = certName ? app.store.findCertificate(certName)?.certPem ?? '' : '';
  return {
    app, dir, port, server: DEFAULT_SERVER_NAME, caPem,
    async close() {
      await app.stop(200);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The finished messages in a drop folder. Delivery writes `.ID.tmp` there and renames it to
 * `ID.eml` when complete, so a reader of the folder (and a test) takes only `.eml` files.
 */
export function droppedMessages(folder: string): string[] {
  if (!fs.existsSync(folder)) return [];
  return fs.readdirSync(folder).filter((f) => f.endsWith('.eml') && !f.startsWith('.')).map((f) => fs.readFileSync(path.join(folder, f), 'utf8'));
}

/** Poll until the condition holds (bounded); for effects that happen on another tick. */
type Falsy = null | undefined | false | 0 | '';

export async function eventually<T>(probe: () => T | Falsy | Promise<T | Falsy>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
