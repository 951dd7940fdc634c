// The web console attacked as an independent check did: parallel brute force from one address and
// from many, the admin's own sign-in during a flood, the setup link raced and reused, event streams
// after logout and after a password change, the absolute session lifetime, the Host check on a
// console bound to every address (through a second loopback address), its TLS profile and HSTS,
// and a malformed path.
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminHandlers } from '../../server/admin';
import { type ConsoleServer, setAdminPassword, startConsole } from '../../server/web/console-server';
import { createSelfSignedCertificate } from '../../server/tls/certificate-tools';
import { startTestApp, type TestApp } from '../helpers/test-app';

const PASSWORD = 'console-password-1';

interface Reply { status: number; body: { ok: boolean; value?: unknown; error?: { code: string; message: string } }; cookies: string[]; headers: http.IncomingHttpHeaders }

function request(base: string, method: string, path: string, options: { body?: unknown; cookie?: string; csrf?: string; host?: string; localAddress?: string } = {}): Promise<Reply> {
  const url = new URL(base);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request({
      host: url.hostname, port: url.port, path, method, localAddress: options.localAddress, rejectUnauthorized: false,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.cookie ? { cookie: options.cookie } : {}),
        ...(options.csrf ? { 'x-csrf-token': options.csrf } : {}),
        ...(options.host ? { host: options.host } : {}),
      },
    }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => { data += c.toString(); });
      res.on('end', () => {
        let body: Reply['body'];
        try { body = JSON.parse(data || '{}') as Reply['body']; } catch { body = { ok: false, error: { code: 'text', message: data } }; }
        resolve({ status: res.statusCode ?? 0, body, cookies: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? ''), headers: res.headers });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(JSON.stringify(options.body));
    req.end();
  });
}

const open: Array<{ app: TestApp; console: ConsoleServer }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.console.close();
    await o.app.close();
  }
});

async function consoleFor(options: { password?: boolean; host?: string; tls?: boolean; now?: () => number } = {}) {
  const app = await startTestApp({});
  if (options.password !== false) await setAdminPassword(app.app.store, PASSWORD);
  const material = options.tls ? await createSelfSignedCertificate({ commonName: 'localhost' }) : null;
  const server = await startConsole({
    host: options.host ?? '127.0.0.1', port: 0, handlers: createAdminHandlers(app.app), bus: app.app.bus, store: app.app.store, staticDir: null,
    ...(material ? { tls: { key: material.keyPem, cert: material.certPem } } : {}), ...(options.now ? { now: options.now } : {}),
  });
  open.push({ app, console: server });
  return { app, server };
}

const login = (base: string, password: string, extra: { cookie?: string; localAddress?: string; host?: string } = {}) => request(base, 'POST', '/api/login', { body: { password }, ...extra });

describe('console sign-in throttle', () => {
  it('counts parallel guesses before checking them: 200 at once from one address reach the password check at most 8 times', async () => {
    const { server } = await consoleFor();
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => login(server.url, `wrong-guess-${i}`)));
    const statuses = replies.map((r) => r.status);
    const checked = statuses.filter((s) => s === 401).length;
    console.log(`console brute force, 200 parallel: ${checked} checked (401), ${statuses.filter((s) => s === 429).length} refused (429)`);
    expect(checked).toBeLessThanOrEqual(8);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(190);
    expect(replies.find((r) => r.status === 429)?.headers['retry-after']).toMatch(/^\d+$/);
    // A stranger with the right password from that address is held back too, for now...
    expect((await login(server.url, PASSWORD)).status).toBe(429);
  }, 60_000);

  it('lets the admin in from a browser that signed in before, whatever the flood from 127.0.0.1', async () => {
    const { server } = await consoleFor();
    const first = await login(server.url, PASSWORD);
    expect(first.status).toBe(200);
    const device = first.cookies.find((c) => c.startsWith('relaydesk_device=')) ?? '';
    expect(device).toMatch(/^relaydesk_device=[\w-]+\.[\w-]+$/);
    await Promise.all(Array.from({ length: 100 }, (_, i) => login(server.url, `flood-${i}`)));
    expect((await login(server.url, PASSWORD)).status).toBe(429);
    const started = Date.now();
    const known = await login(server.url, PASSWORD, { cookie: device });
    console.log(`console: the admin's known browser signed in during a flood in ${Date.now() - started} ms`);
    expect(known.status).toBe(200);
    // A forged device cookie is just another stranger.
    expect((await login(server.url, PASSWORD, { cookie: 'relaydesk_device=forged.AAAA' })).status).toBe(429);
  }, 60_000);

  it('throttles guesses spread over 30 addresses (3 each) by the global count', async () => {
    const { server } = await consoleFor();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      for (let j = 0; j < 3; j++) statuses.push((await login(server.url, `spread-${i}-${j}`, { localAddress: `127.0.9.${i + 1}` })).status);
    }
    const checked = statuses.filter((s) => s === 401).length;
    console.log(`console brute force from 30 addresses x 3: ${checked} checked, ${statuses.filter((s) => s === 429).length} refused`);
    expect(checked).toBeLessThanOrEqual(30);
    expect(statuses.slice(-10).every((s) => s === 429)).toBe(true);
  }, 120_000);

  it('stores the admin password with scrypt N=2^17', async () => {
    const { app } = await consoleFor();
    expect(app.app.store.getMeta('admin.passwordHash')).toMatch(/^scrypt\$131072\$8\$1\$/);
  });
});

describe('setup link and sessions', () => {
  it('the setup link works once: three parallel uses give one session; after the CLI sets a password it is dead', async () => {
    const { server } = await consoleFor({ password: false });
    const token = server.setupToken;
    const replies = await Promise.all([1, 2, 3].map((i) => request(server.url, 'POST', '/api/setup', { body: { token, password: `raced-password-${i}` } })));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 403 || s === 409)).toBe(true);
    const second = await consoleFor({ password: false });
    const link = second.server.setupToken;
    await setAdminPassword(second.app.app.store, 'chosen-on-the-cli');
    expect((await request(second.server.url, 'GET', '/api/session')).body.value).toMatchObject({ setupRequired: false });
    expect((await request(second.server.url, 'POST', '/api/setup', { body: { token: link, password: 'attacker-password' } })).status).toBe(409);
    expect((await login(second.server.url, 'chosen-on-the-cli')).status).toBe(200);
  }, 30_000);

  it('logout ends the event stream; a password change ends every session and its stream', async () => {
    const { app, server } = await consoleFor();
    const signIn = async () => {
      const r = await login(server.url, PASSWORD);
      return { cookie: r.cookies.find((c) => c.startsWith('relaydesk_session=')) ?? '', csrf: (r.body.value as { csrf: string }).csrf };
    };
    const stream = (cookie: string) => new Promise<{ ended: Promise<string> }>((resolve) => {
      const url = new URL(server.url);
      http.get({ host: url.hostname, port: url.port, path: '/api/events', headers: { cookie } }, (res) => {
        let data = '';
        res.on('data', (c: Buffer) => { data += c.toString(); });
        resolve({ ended: new Promise((done) => res.on('end', () => done(data))) });
      });
    });
    const a = await signIn();
    const events = await stream(a.cookie);
    expect((await request(server.url, 'POST', '/api/logout', { cookie: a.cookie, csrf: a.csrf, body: {} })).status).toBe(200);
    const afterLogout = await events.ended;
    app.app.bus.emit({ type: 'warning', at: new Date().toISOString(), message: 'secret-event-after-logout' });
    expect(afterLogout).not.toContain('secret-event-after-logout');
    // Two sessions with open streams; the password changes (as relaydesk admin set-password does).
    const b = await signIn();
    const c = await signIn();
    const [sb, sc] = await Promise.all([stream(b.cookie), stream(c.cookie)]);
    await setAdminPassword(app.app.store, 'the-new-password');
    await Promise.all([sb.ended, sc.ended]);
    expect((await request(server.url, 'POST', '/api/call/servers.list', { cookie: b.cookie, csrf: b.csrf, body: {} })).status).toBe(401);
    expect((await request(server.url, 'POST', '/api/call/servers.list', { cookie: c.cookie, csrf: c.csrf, body: {} })).status).toBe(401);
  }, 30_000);

  it('a session ends after 7 days however active it is', async () => {
    let clock = Date.now();
    const { server } = await consoleFor({ now: () => clock });
    const r = await login(server.url, PASSWORD);
    const cookie = r.cookies.find((c) => c.startsWith('relaydesk_session=')) ?? '';
    const csrf = (r.body.value as { csrf: string }).csrf;
    const list = () => request(server.url, 'POST', '/api/call/servers.list', { cookie, csrf, body: {} });
    for (let hours = 0; hours <= 165; hours += 11) {
      clock = Date.now() + hours * 3_600_000;
      expect((await list()).status, `after ${hours} h`).toBe(200);
    }
    clock = Date.now() + 169 * 3_600_000;
    expect((await list()).status).toBe(401);
  });
});

describe('console on every address (LAN)', () => {
  it('answers to this machine\'s names and addresses, refuses foreign names, speaks only strong TLS with HSTS', async () => {
    const { server } = await consoleFor({ host: '0.0.0.0', tls: true });
    const port = new URL(server.url).port;
    const base = `https://127.0.0.2:${port}/`;
    for (const host of [`127.0.0.2:${port}`, `localhost:${port}`, `${os.hostname()}:${port}`, `127.0.0.1:${port}`]) {
      const r = await request(base, 'GET', '/api/session', { host });
      expect(r.status, host).toBe(200);
      expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
    }
    expect((await request(base, 'GET', '/api/session', { host: `evil.example:${port}` })).status).toBe(421);
    expect((await request(base, 'GET', '/api/session', { host: `127.0.0.2:${Number(port) + 1}` })).status).toBe(421);
    expect((await login(base, PASSWORD, { host: `127.0.0.2:${port}` })).status).toBe(200);
    const handshake = (options: tls.ConnectionOptions) => new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.2', port: Number(port), rejectUnauthorized: false, ...options }, () => { resolve(socket.getCipher().name); socket.end(); });
      socket.on('error', (err) => resolve(`refused: ${err.message}`));
    });
    expect(await handshake({ ciphers: 'AES128-SHA', maxVersion: 'TLSv1.2' })).toMatch(/^refused/);
    expect(await handshake({ ciphers: 'AES256-SHA256', maxVersion: 'TLSv1.2' })).toMatch(/^refused/);
    expect(await handshake({ ciphers: 'ECDHE-RSA-AES128-SHA', maxVersion: 'TLSv1.2' })).toMatch(/^refused/);
    expect(await handshake({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })).toBe('ECDHE-RSA-AES128-GCM-SHA256');
    expect(await handshake({ maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })).toMatch(/^refused/);
  }, 30_000);

  it('answers a malformed path with 400, not 500', async () => {
    const { server } = await consoleFor();
    const r = await request(server.url, 'GET', '/%');
    expect(r.status).toBe(400);
    expect(r.body.error?.message).toMatch(/malformed percent-encoding/);
  });
});
