// The headless web console over real HTTP: sign-in and its defences, every AdminApi method
// reachable through the bridge, field-level errors, and live events over SSE while SMTP runs.
import http from 'node:http';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminHandlers } from '../../server/admin';
import { ADMIN_METHOD_NAMES, type AdminMethodName, type MethodInput } from '../../server/contract/admin-api';
import type { RelaydeskEvent, SessionEvent } from '../../server/contract/events';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { type ConsoleServer, startConsole } from '../../server/web/console-server';
import { startTestApp, type TestApp } from '../helpers/test-app';

interface Response { status: number; body: { ok: boolean; value?: unknown; error?: { code: string; message: string; field?: string } }; cookie?: string }

function request(base: string, method: string, path: string, options: { body?: unknown; cookie?: string; csrf?: string; origin?: string; host?: string } = {}): Promise<Response> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.cookie ? { cookie: options.cookie } : {}),
        ...(options.csrf ? { 'x-csrf-token': options.csrf } : {}),
        ...(options.origin ? { origin: options.origin } : {}),
        ...(options.host ? { host: options.host } : {}),
      },
    }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => { data += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data || '{}') as Response['body'], cookie: res.headers['set-cookie']?.[0]?.split(';')[0] }));
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(JSON.stringify(options.body));
    req.end();
  });
}

describe('web console', () => {
  let t: TestApp;
  let console_: ConsoleServer;
  let cookie = '';
  let csrf = '';
  const origin = () => console_.url.replace(/\/$/, '');
  const call = (method: string, body: unknown) => request(console_.url, 'POST', `/api/call/${method}`, { body, cookie, csrf, origin: origin() });

  beforeAll(async () => {
    t = await startTestApp({ users: [{ name: 'alice', password: 'correct horse battery' }], domains: ['example.com'] });
    console_ = await startConsole({ host: '127.0.0.1', port: 0, handlers: createAdminHandlers(t.app), bus: t.app.bus, store: t.app.store, staticDir: null });
  });
  afterAll(async () => {
    await console_.close();
    await t.close();
  });

  it('refuses everything before sign-in and sets the first password only with the printed token', async () => {
    expect((await request(console_.url, 'POST', '/api/call/servers.list', { body: {} })).status).toBe(401);
    const session = await request(console_.url, 'GET', '/api/session');
    expect(session.body.value).toEqual({ authenticated: false, csrf: null, setupRequired: true });
    expect((await request(console_.url, 'POST', '/api/login', { body: { password: 'whatever-it-is' } })).body.error?.code).toBe('setup-required');
    expect((await request(console_.url, 'POST', '/api/setup', { body: { token: 'guess', password: 'console-password-1' } })).status).toBe(403);
    expect((await request(console_.url, 'POST', '/api/setup', { body: { token: console_.setupToken, password: 'short' } })).body.error?.field).toBe('password');
    const setup = await request(console_.url, 'POST', '/api/setup', { body: { token: console_.setupToken, password: 'console-password-1' } });
    expect(setup.status).toBe(200);
    expect(console_.setupToken).toBeNull();
    expect((await request(console_.url, 'POST', '/api/setup', { body: { token: 'x', password: 'another-password' } })).status).toBe(409);
  });

  it('signs in with the password; wrong passwords are refused and then throttled', async () => {
    expect((await request(console_.url, 'POST', '/api/login', { body: { password: 'wrong-password' } })).status).toBe(401);
    const login = await request(console_.url, 'POST', '/api/login', { body: { password: 'console-password-1' } });
    expect(login.status).toBe(200);
    expect(login.cookie).toMatch(/^relaydesk_session=/);
    cookie = login.cookie as string;
    csrf = (login.body.value as { csrf: string }).csrf;
  });

  it('requires the CSRF token, a same Origin and a known Host', async () => {
    expect((await request(console_.url, 'POST', '/api/call/servers.list', { body: {}, cookie })).status).toBe(403);
    expect((await request(console_.url, 'POST', '/api/call/servers.list', { body: {}, cookie, csrf, origin: 'http://evil.example' })).status).toBe(403);
    expect((await request(console_.url, 'POST', '/api/call/servers.list', { body: {}, cookie, csrf, host: 'evil.example' })).status).toBe(421);
    expect((await call('servers.list', {})).status).toBe(200);
  });

  it('reaches every AdminApi method through the bridge', async () => {
    // One valid argument per method; a method added to the contract without a case here is a compile error.
    const inputs: { [M in AdminMethodName]: MethodInput<M> } = {
      'servers.list': {}, 'servers.get': { name: DEFAULT_SERVER_NAME },
      'servers.create': { server: { ...t.app.store.getServer(DEFAULT_SERVER_NAME), name: 'Via API', port: 0, connectionRules: [], relayRules: [] } },
      'servers.update': { name: 'Via API', patch: { maxConnections: 5 } }, 'servers.setState': { name: 'Via API', state: 'paused' },
      'servers.validateRule': { text: '192.168.1.0/255.255.255.0' }, 'servers.delete': { name: 'Via API' },
      'users.list': {}, 'users.add': { name: 'bob', password: 'bobs-password-1' }, 'users.update': { name: 'bob', enabled: false, senders: ['@example.com'] },
      'users.remove': { name: 'bob' },
      'domains.list': {}, 'domains.add': { domain: 'branch.example', action: 'drop', forwardTo: null }, 'domains.remove': { domain: 'branch.example' },
      'certificates.list': {}, 'certificates.createSelfSigned': { name: 'api-made', commonName: 'mail.example.com', altNames: ['smtp.example.com'] },
      'certificates.importPem': { name: 'api-imported', keyPem: 'nonsense', certPem: 'nonsense' },
      'certificates.exportPem': { name: 'api-made' }, 'certificates.remove': { name: 'api-made' },
      'certificates.request': { name: 'api-request', commonName: 'mail.example.com', key: 'p256' }, 'certificates.requests': {},
      'certificates.complete': { name: 'api-request', answer: 'not a certificate' }, 'certificates.cancelRequest': { name: 'api-request' },
      'certificates.importPfx': { name: 'api-pfx', pfxBase64: 'AAAA', password: 'x' },
      'queue.list': {}, 'queue.show': { id: 'NO-SUCH-ID' }, 'queue.source': { id: 'NO-SUCH-ID' }, 'queue.action': { id: 'NO-SUCH-ID', action: 'retry' }, 'log.query': { limit: 10 }, 'log.transcript': { session: 'none' }, 'log.export': { format: 'csv' },
      'log.getSettings': {}, 'log.setSettings': { retentionDays: 30, maxEvents: 1_000_000 },
      'sessions.list': {}, 'sessions.terminate': { server: DEFAULT_SERVER_NAME, id: 'none' }, 'counters.get': {}, 'status.warnings': {},
      'policy.simulate': { server: DEFAULT_SERVER_NAME, address: '127.0.0.1', tls: true, mailFrom: 'a@example.com', rcptTo: ['b@example.com'] },
      'smarthost.status': { server: DEFAULT_SERVER_NAME }, 'smarthost.signIn': { server: DEFAULT_SERVER_NAME }, 'smarthost.signOut': { server: DEFAULT_SERVER_NAME },
      'smarthost.fetchCertificate': { server: DEFAULT_SERVER_NAME }, 'smarthost.trust': { server: DEFAULT_SERVER_NAME, fingerprint: null },
      'probe.run': { server: DEFAULT_SERVER_NAME }, 'import.iisPreview': { content: 'not a metabase' }, 'import.iisScript': {}, 'system.addresses': {}, 'servers.dependents': { name: DEFAULT_SERVER_NAME }, 'import.iisApply': { content: 'not a metabase' }, 'dns.checkFqdn': { name: DEFAULT_SERVER_NAME }, 'dns.lookup': { hostname: 'localhost' },
      'route.test': { server: DEFAULT_SERVER_NAME, route: 'nope', to: 'a@example.com' }, 'dns.mx': { domain: 'localhost' },
      'config.export': {}, 'config.import': { document: { acceptedDomains: [{ domain: 'imported.example' }] }, merge: true },
    };
    const expectedErrors: Partial<Record<AdminMethodName, string>> = {
      'certificates.importPem': 'invalid', 'certificates.complete': 'invalid', 'certificates.importPfx': 'invalid', 'queue.action': 'not-found', 'queue.show': 'not-found', 'queue.source': 'not-found', 'import.iisPreview': 'invalid', 'import.iisApply': 'invalid',
      'smarthost.fetchCertificate': 'conflict', 'smarthost.trust': 'conflict',
      'smarthost.status': 'conflict', 'smarthost.signIn': 'conflict', 'smarthost.signOut': 'conflict', 'route.test': 'not-found',
    };
    const order = Object.keys(inputs) as AdminMethodName[];
    expect([...order].sort()).toEqual([...ADMIN_METHOD_NAMES].sort());
    for (const name of order) {
      const result = await call(name, inputs[name]);
      expect(result.status, name).toBe(200);
      if (expectedErrors[name]) expect(result.body.error?.code, name).toBe(expectedErrors[name]);
      else expect(result.body, `${name}: ${JSON.stringify(result.body.error)}`).toMatchObject({ ok: true });
    }
    expect(t.app.store.listServers().map((s) => s.name)).toEqual([DEFAULT_SERVER_NAME]);
  });

  it('refuses bad input with the field named and changes nothing', async () => {
    const result = await call('servers.update', { name: DEFAULT_SERVER_NAME, patch: { port: 'twenty-five' } });
    expect(result.body).toMatchObject({ ok: false, error: { code: 'invalid', field: 'port' } });
    const missing = await call('users.add', { name: 'carol' });
    expect(missing.body).toMatchObject({ ok: false, error: { code: 'invalid', field: 'password' } });
    const conflict = await call('servers.create', { server: { ...t.app.store.getServer(DEFAULT_SERVER_NAME), name: 'Clash', port: 2599, tlsPort: 2599, state: 'stopped' } });
    expect(conflict.body).toMatchObject({ ok: false, error: { code: 'conflict', field: 'port' } });
    expect(t.app.store.listServers()).toHaveLength(1);
    expect((await request(console_.url, 'POST', '/api/call/no.such', { body: {}, cookie, csrf })).status).toBe(404);
    expect((await request(console_.url, 'POST', '/api/call/toString', { body: {}, cookie, csrf })).status).toBe(404);
  });

  it('streams events in order while SMTP load runs', async () => {
    const received: RelaydeskEvent[] = [];
    const stream = await new Promise<http.IncomingMessage>((resolve) => {
      http.get(new URL('/api/events', console_.url), { headers: { cookie } }, resolve);
    });
    expect(stream.statusCode).toBe(200);
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) if (part.startsWith('data: ')) received.push(JSON.parse(part.slice(6)) as RelaydeskEvent);
    });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: t.port, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice', pass: 'correct horse battery' } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => transport.sendMail({ from: 'alice@example.com', to: 'bob@example.com', subject: `load ${i}`, text: 'x' })));
    const deadline = Date.now() + 5000;
    while (received.filter((e) => e.type === 'close').length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    stream.destroy();
    const bySession = new Map<string, string[]>();
    for (const e of received.filter((e): e is SessionEvent => 'session' in e)) bySession.set(e.session, [...(bySession.get(e.session) ?? []), e.type]);
    expect(bySession.size).toBe(20);
    for (const types of bySession.values()) expect(types).toEqual(['connect', 'ehlo', 'starttls', 'ehlo', 'auth', 'mail', 'rcpt', 'data', 'close']);
  });
});
