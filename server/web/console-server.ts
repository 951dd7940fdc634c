// The headless web console: the renderer build and the AdminApi over HTTP, events over SSE,
// behind a sign-in. Loopback by default; any other address requires TLS (the SMTP listeners'
// strong profile, HSTS). Defences: scrypt admin password (N=2^17), a sign-in throttle that counts
// before it checks (sign-in-guard.ts), a one-time setup link, HttpOnly SameSite=Strict session
// cookies that end at logout, at a password change and after 7 days whatever the activity, a
// CSRF token on every state-changing request, Origin and Host checks (DNS rebinding), a strict CSP.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { AdminApiHandlers, ApiResult } from '../contract/admin-api';
import { AdminError } from '../contract/errors';
import { callMethod, isAdminMethod } from '../admin-dispatch';
import os from 'node:os';
import net from 'node:net';
import { ADMIN_SCRYPT_N, hashPassword, passwordProblem, verifyPassword } from '../auth/passwords';
import { STRONG_CIPHERS } from '../tls/tls-options';
import { DeviceCookies, SignInGuard } from './sign-in-guard';
import type { EventBus } from '../log/event-bus';
import type { Store } from '../store/store';
import { checkApiToken } from './api-tokens';
import type { MetricsSource } from './metrics';

export const ADMIN_PASSWORD_KEY = 'admin.passwordHash';
export const DEFAULT_CONSOLE_PORT = 8525;
const SESSION_COOKIE = 'relaydesk_session';
const DEVICE_COOKIE = 'relaydesk_device';
const DEVICE_KEY = 'console.deviceKey';
/** Idle timeout, and the absolute lifetime of a session whatever its activity. */
const SESSION_TTL_MS = 12 * 60 * 60_000;
const SESSION_MAX_MS = 7 * 24 * 60 * 60_000;
const DEVICE_COOKIE_SECONDS = 365 * 24 * 60 * 60;
/** How often open event streams are checked against their session (logout, password change). */
const STREAM_CHECK_MS = 1000;
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

export const CONSOLE_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "font-src 'self' data:",
  "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

export interface ConsoleOptions {
  host: string;
  port: number;
  handlers: AdminApiHandlers;
  bus: EventBus;
  store: Store;
  /** Folder of the renderer build (index.html and assets), or null when not built. */
  staticDir: string | null;
  /** Required unless host is loopback. */
  tls?: { key: string; cert: string };
  /** More names this console is reached by (a DNS alias); this machine's names and addresses are always accepted. */
  hostNames?: string[];
  /** /metrics and /healthz: for a signed-in browser, a bearer token, or anyone when open (loopback only). */
  metrics?: MetricsSource;
  now?: () => number;
}

export interface ConsoleServer {
  url: string;
  /** One-time token for choosing the admin password in the browser, when none is set yet. */
  setupToken: string | null;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/** Set (or change) the console password; every session signed in with the old one ends. */
export async function setAdminPassword(store: Store, password: string): Promise<void> {
  const problem = passwordProblem(password);
  if (problem) throw new AdminError('invalid', problem, 'password');
  store.setMeta(ADMIN_PASSWORD_KEY, await hashPassword(password, ADMIN_SCRYPT_N));
}

interface ConsoleSession {
  csrf: string;
  /** Idle expiry (slides) and absolute expiry (does not). */
  expires: number;
  endsAt: number;
  /** The password hash it signed in with: a changed password ends the session. */
  passwordHash: string;
  streams: Set<http.ServerResponse>;
}

/** The Host values a console bound to `host` answers to: this machine's names and addresses, and the admin's. */
export function hostAllowed(hostHeader: string, options: { bound: string; port: number; tls: boolean; extraNames: readonly string[] }): boolean {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!match) return false;
  const name = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  const port = match[2] ? Number(match[2]) : options.tls ? 443 : 80;
  if (port !== options.port) return false;
  const bound = options.bound.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const wildcard = bound === '0.0.0.0' || bound === '::';
  const loopbackName = name === 'localhost' || name === '::1' || /^127\./.test(name);
  if (name === bound) return true;
  if (isLoopback(bound)) return loopbackName;
  // An IP literal cannot be rebound by DNS; a name must be this machine's or one the admin gave.
  if (net.isIP(name)) return wildcard && (loopbackName || localAddresses().has(name));
  const hostname = os.hostname().toLowerCase();
  return [hostname, hostname.split('.')[0], ...(wildcard ? ['localhost'] : []), ...options.extraNames.map((n) => n.toLowerCase())].includes(name);
}

function localAddresses(): Set<string> {
  return new Set(Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.toLowerCase().replace(/%.*$/, ''))));
}

export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const loopback = isLoopback(options.host);
  if (!loopback && !options.tls) throw new AdminError('invalid', `the console on ${options.host} (not loopback) needs TLS`, 'console');
  const now = options.now ?? Date.now;
  const sessions = new Map<string, ConsoleSession>();
  const guard = new SignInGuard(now);
  const devices = new DeviceCookies(deviceKey(options.store));
  let setupToken: string | null = options.store.getMeta(ADMIN_PASSWORD_KEY) ? null : crypto.randomBytes(18).toString('base64url');
  /** The setup link works once, and not at all once a password exists (set here or with the CLI). */
  const setupOpen = (): boolean => {
    if (setupToken !== null && options.store.getMeta(ADMIN_PASSWORD_KEY)) setupToken = null;
    return setupToken !== null;
  };
  const scheme = options.tls ? 'https' : 'http';

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    route(req, res).catch((err: unknown) => {
      const known = err instanceof AdminError;
      if (!res.headersSent) sendJson(res, known ? 400 : 500, apiError(known ? err.code : 'internal', (err as Error).message));
      else res.end();
    });
  };
  // The SMTP listeners' "strong encryption" profile: TLS 1.2+ with ECDHE and AEAD ciphers only.
  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2', ciphers: STRONG_CIPHERS, honorCipherOrder: true }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${scheme}://${hostForUrl}:${port}/`;
  const hostOptions = { bound: options.host, port, tls: Boolean(options.tls), extraNames: options.hostNames ?? [] };

  const valid = (session: ConsoleSession): boolean => {
    const t = now();
    return session.expires > t && session.endsAt > t && options.store.getMeta(ADMIN_PASSWORD_KEY) === session.passwordHash;
  };
  const endSession = (id: string): void => {
    const session = sessions.get(id);
    sessions.delete(id);
    for (const stream of session?.streams ?? []) stream.end();
  };
  // Event streams opened before a logout or a password change (the CLI's too) end within a second.
  const streamCheck = setInterval(() => {
    for (const [id, session] of sessions) if (session.streams.size > 0 && !valid(session)) endSession(id);
  }, STREAM_CHECK_MS);
  streamCheck.unref();

  function sessionOf(req: http.IncomingMessage): { id: string; session: ConsoleSession } | null {
    const id = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
    if (!id) return null;
    const session = sessions.get(id);
    if (!session || !valid(session)) {
      endSession(id);
      return null;
    }
    session.expires = now() + SESSION_TTL_MS;
    return { id, session };
  }

  function originAllowed(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true; // same-origin GETs and non-browser clients; CSRF token still required for POST
    return origin === `${scheme}://${req.headers.host ?? ''}`;
  }

  async function serveMetrics(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, metrics: MetricsSource): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, apiError('invalid', 'method not allowed'));
    const allowed = (metrics.open && loopback) || checkApiToken(options.store, req.headers.authorization) !== null || sessionOf(req) !== null;
    if (!allowed) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="relaydesk"');
      return sendJson(res, 401, apiError('unauthorized', 'sign in to the console, or send a token: Authorization: Bearer <relaydesk admin token create NAME>'));
    }
    res.setHeader('Cache-Control', 'no-store');
    if (pathname === '/metrics') {
      const text = await metrics.render();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    const report = await metrics.health();
    return sendJson(res, report.status === 'failing' ? 503 : 200, report);
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends Host: evil.example.
    if (!hostAllowed(req.headers.host ?? '', hostOptions)) return sendJson(res, 421, apiError('forbidden', 'unexpected Host header (add the name with --console-host NAME)'));
    if (options.tls) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (options.metrics && (pathname === '/metrics' || pathname === '/healthz')) return serveMetrics(req, res, pathname, options.metrics);
    if (!pathname.startsWith('/api/')) return serveStatic(res, options.staticDir, pathname);
    if (!originAllowed(req)) return sendJson(res, 403, apiError('forbidden', 'cross-origin request refused'));

    if (req.method === 'GET' && pathname === '/api/session') {
      const current = sessionOf(req);
      return sendJson(res, 200, { ok: true, value: { authenticated: Boolean(current), csrf: current?.session.csrf ?? null, setupRequired: setupOpen() } });
    }
    if (req.method === 'POST' && (pathname === '/api/login' || pathname === '/api/setup')) {
      const address = req.socket.remoteAddress ?? 'unknown';
      const cookies = parseCookies(req.headers.cookie ?? '');
      const device = devices.verify(cookies[DEVICE_COOKIE]);
      const body = await readJson(req);
      const password = typeof body?.password === 'string' ? body.password : '';
      const problem = pathname === '/api/setup' ? passwordProblem(password) : null;
      if (problem) return sendJson(res, 400, apiError('invalid', problem, 'password'));
      // Counted before anything is checked: parallel guesses see each other's count.
      const verdict = guard.admit(address, device);
      if (!verdict.allowed) {
        res.setHeader('Retry-After', String(verdict.retryAfterSeconds));
        return sendJson(res, 429, apiError('throttled', verdict.reason));
      }
      await delay(verdict.delayMs);
      if (pathname === '/api/setup') {
        if (!setupOpen()) return sendJson(res, 409, apiError('conflict', 'the admin password is already set'));
        const token = typeof body?.token === 'string' ? body.token : '';
        if (setupToken === null || !safeEqual(token, setupToken)) {
          return sendJson(res, 403, apiError('forbidden', 'the setup link is not valid (it works once); use the one printed by relaydesk serve, or relaydesk admin set-password'));
        }
        setupToken = null; // consumed here, before anything is awaited: a second request with it fails
        verdict.release(true);
        await setAdminPassword(options.store, password);
      } else {
        const hash = options.store.getMeta(ADMIN_PASSWORD_KEY);
        if (!hash) return sendJson(res, 409, apiError('setup-required', 'no admin password yet: use the setup link printed by relaydesk serve, or run relaydesk admin set-password'));
        const ok = await guard.runCheck(() => verifyPassword(password, hash));
        if (ok === 'busy') {
          res.setHeader('Retry-After', '1');
          return sendJson(res, 429, apiError('throttled', 'the console is checking other sign-ins; try again in a moment'));
        }
        verdict.release(ok);
        if (!ok) return sendJson(res, 401, apiError('unauthorized', 'wrong password', 'password'));
      }
      const id = crypto.randomBytes(32).toString('base64url');
      const t = now();
      const session: ConsoleSession = {
        csrf: crypto.randomBytes(24).toString('base64url'), expires: t + SESSION_TTL_MS, endsAt: t + SESSION_MAX_MS,
        passwordHash: options.store.getMeta(ADMIN_PASSWORD_KEY) ?? '', streams: new Set(),
      };
      sessions.set(id, session);
      const secure = options.tls ? '; Secure' : '';
      res.setHeader('Set-Cookie', [
        `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/${secure}`,
        `${DEVICE_COOKIE}=${device !== null ? cookies[DEVICE_COOKIE] : devices.mint()}; HttpOnly; SameSite=Strict; Path=/api/; Max-Age=${DEVICE_COOKIE_SECONDS}${secure}`,
      ]);
      return sendJson(res, 200, { ok: true, value: { csrf: session.csrf } });
    }

    const current = sessionOf(req);
    if (!current) return sendJson(res, 401, apiError('unauthorized', 'sign in first'));
    const { session } = current;

    if (req.method === 'GET' && pathname === '/api/events') return streamEvents(req, res, options.bus, session.streams);
    if (req.method !== 'POST') return sendJson(res, 405, apiError('invalid', 'method not allowed'));
    if (!safeEqual(String(req.headers['x-csrf-token'] ?? ''), session.csrf)) return sendJson(res, 403, apiError('forbidden', 'missing or wrong CSRF token'));

    if (pathname === '/api/logout') {
      endSession(current.id);
      res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
      return sendJson(res, 200, { ok: true, value: null });
    }
    const match = /^\/api\/call\/([a-zA-Z.]+)$/.exec(pathname);
    const name = match?.[1];
    if (!isAdminMethod(name)) return sendJson(res, 404, apiError('not-found', `no AdminApi method ${name ?? pathname}`));
    return sendJson(res, 200, await callMethod(options.handlers, name, await readJson(req)));
  }

  return {
    url,
    get setupToken() {
      return setupToken;
    },
    close: () => new Promise<void>((resolve) => {
      clearInterval(streamCheck);
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The console's key for "known device" cookies: made once, kept in the store. */
function deviceKey(store: Store): Buffer {
  let key = store.getMeta(DEVICE_KEY);
  if (!key) {
    key = crypto.randomBytes(32).toString('base64');
    store.setMeta(DEVICE_KEY, key);
  }
  return Buffer.from(key, 'base64');
}

function streamEvents(req: http.IncomingMessage, res: http.ServerResponse, bus: EventBus, streams: Set<http.ServerResponse>): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Content-Type-Options': 'nosniff' });
  res.write(': relaydesk events\n\n');
  streams.add(res);
  const unsubscribe = bus.subscribe((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  const stop = () => {
    unsubscribe();
    clearInterval(heartbeat);
    streams.delete(res);
  };
  req.on('close', stop);
  res.on('close', stop);
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.woff2': 'font/woff2',
};

function securityHeaders(res: http.ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
}

function serveStatic(res: http.ServerResponse, dir: string | null, pathname: string): void {
  securityHeaders(res);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Bad request: malformed percent-encoding in the path');
    return;
  }
  if (!dir || !fs.existsSync(path.join(dir, 'index.html'))) {
    res.writeHead(503, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Relaydesk</title><p>The console UI is not built. Run <code>npm run build</code> and restart <code>relaydesk serve --console</code>. The API is available under /api/.</p>');
    return;
  }
  const root = path.resolve(dir);
  let file = path.resolve(root, `.${decoded}`);
  if (!file.startsWith(root + path.sep) && file !== root) file = path.join(root, 'index.html');
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(root, 'index.html');
  const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  res.writeHead(200, { 'Content-Type': type, 'Cache-Control': file.endsWith('index.html') ? 'no-store' : 'public, max-age=31536000, immutable' });
  fs.createReadStream(file).pipe(res);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  securityHeaders(res);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

function apiError(code: string, message: string, field?: string): ApiResult<never> {
  return { ok: false, error: { code, message, ...(field ? { field } : {}) } };
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown> | null> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new AdminError('invalid', 'send application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new AdminError('invalid', 'request too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return null;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new AdminError('invalid', 'the request body is not JSON');
  }
}

function parseCookies(header: string): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return cookies;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
