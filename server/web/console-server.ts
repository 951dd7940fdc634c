// The headless web console: the renderer build and the AdminApi over HTTP, events over SSE,
// behind a sign-in. Loopback by default; any other address requires TLS. Defences: scrypt admin
// password, throttled sign-ins, HttpOnly SameSite=Strict session cookie, a CSRF token on every
// state-changing request, Origin and Host checks (DNS rebinding), a strict CSP.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { AdminApiHandlers, ApiResult } from '../contract/admin-api';
import { AdminError } from '../contract/errors';
import { callMethod, isAdminMethod } from '../admin-dispatch';
import { hashPassword, passwordProblem, verifyPassword } from '../auth/passwords';
import { AuthThrottle } from '../auth/throttle';
import type { EventBus } from '../log/event-bus';
import type { Store } from '../store/store';

export const ADMIN_PASSWORD_KEY = 'admin.passwordHash';
export const DEFAULT_CONSOLE_PORT = 8525;
const SESSION_COOKIE = 'relaydesk_session';
const SESSION_TTL_MS = 12 * 60 * 60_000;
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

export async function setAdminPassword(store: Store, password: string): Promise<void> {
  const problem = passwordProblem(password);
  if (problem) throw new AdminError('invalid', problem, 'password');
  store.setMeta(ADMIN_PASSWORD_KEY, await hashPassword(password));
}

interface ConsoleSession { csrf: string; expires: number }

export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const loopback = isLoopback(options.host);
  if (!loopback && !options.tls) throw new AdminError('invalid', `the console on ${options.host} (not loopback) needs TLS`, 'console');
  const now = options.now ?? Date.now;
  const sessions = new Map<string, ConsoleSession>();
  const throttle = new AuthThrottle({ windowMs: 15 * 60_000, slowAfter: 3, delayStepMs: 1000, maxDelayMs: 5000, blockAfter: 10, blockMs: 15 * 60_000 }, now);
  let setupToken: string | null = options.store.getMeta(ADMIN_PASSWORD_KEY) ? null : crypto.randomBytes(18).toString('base64url');
  const scheme = options.tls ? 'https' : 'http';

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    route(req, res).catch((err: unknown) => {
      const known = err instanceof AdminError;
      if (!res.headersSent) sendJson(res, known ? 400 : 500, apiError(known ? err.code : 'internal', (err as Error).message));
      else res.end();
    });
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' }, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${scheme}://${hostForUrl}:${port}/`;
  const allowedHosts = new Set([`${hostForUrl}:${port}`, ...(loopback ? [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`] : [])]);

  function sessionOf(req: http.IncomingMessage): ConsoleSession | null {
    const id = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
    if (!id) return null;
    const session = sessions.get(id);
    if (!session || session.expires < now()) {
      sessions.delete(id);
      return null;
    }
    session.expires = now() + SESSION_TTL_MS;
    return session;
  }

  function originAllowed(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true; // same-origin GETs and non-browser clients; CSRF token still required for POST
    return origin === `${scheme}://${req.headers.host ?? ''}`;
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends Host: evil.example.
    if (!allowedHosts.has((req.headers.host ?? '').toLowerCase())) return sendJson(res, 421, apiError('forbidden', 'unexpected Host header'));
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (!pathname.startsWith('/api/')) return serveStatic(res, options.staticDir, pathname);
    if (!originAllowed(req)) return sendJson(res, 403, apiError('forbidden', 'cross-origin request refused'));

    if (req.method === 'GET' && pathname === '/api/session') {
      const session = sessionOf(req);
      return sendJson(res, 200, { ok: true, value: { authenticated: Boolean(session), csrf: session?.csrf ?? null, setupRequired: setupToken !== null } });
    }
    if (req.method === 'POST' && (pathname === '/api/login' || pathname === '/api/setup')) {
      const address = req.socket.remoteAddress ?? 'unknown';
      const blocked = throttle.check({ address, user: null });
      if (blocked.blocked) return sendJson(res, 429, apiError('throttled', 'too many failed sign-ins; try again later'));
      const body = await readJson(req);
      const password = typeof body?.password === 'string' ? body.password : '';
      if (pathname === '/api/setup') {
        if (setupToken === null) return sendJson(res, 409, apiError('conflict', 'the admin password is already set'));
        const token = typeof body?.token === 'string' ? body.token : '';
        if (!safeEqual(token, setupToken)) {
          await delay(throttle.recordFailure({ address, user: null }));
          return sendJson(res, 403, apiError('forbidden', 'the setup link is not valid; use the one printed by relaydesk serve'));
        }
        const problem = passwordProblem(password);
        if (problem) return sendJson(res, 400, apiError('invalid', problem, 'password'));
        await setAdminPassword(options.store, password);
        setupToken = null;
      } else {
        const hash = options.store.getMeta(ADMIN_PASSWORD_KEY);
        if (!hash) return sendJson(res, 409, apiError('setup-required', 'no admin password yet: use the setup link printed by relaydesk serve, or run relaydesk admin set-password'));
        if (!(await verifyPassword(password, hash))) {
          await delay(throttle.recordFailure({ address, user: null }));
          return sendJson(res, 401, apiError('unauthorized', 'wrong password', 'password'));
        }
        throttle.recordSuccess({ address, user: null });
      }
      const id = crypto.randomBytes(32).toString('base64url');
      const session: ConsoleSession = { csrf: crypto.randomBytes(24).toString('base64url'), expires: now() + SESSION_TTL_MS };
      sessions.set(id, session);
      res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/${options.tls ? '; Secure' : ''}`);
      return sendJson(res, 200, { ok: true, value: { csrf: session.csrf } });
    }

    const session = sessionOf(req);
    if (!session) return sendJson(res, 401, apiError('unauthorized', 'sign in first'));

    if (req.method === 'GET' && pathname === '/api/events') return streamEvents(req, res, options.bus);
    if (req.method !== 'POST') return sendJson(res, 405, apiError('invalid', 'method not allowed'));
    if (!safeEqual(String(req.headers['x-csrf-token'] ?? ''), session.csrf)) return sendJson(res, 403, apiError('forbidden', 'missing or wrong CSRF token'));

    if (pathname === '/api/logout') {
      const id = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
      if (id) sessions.delete(id);
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
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function streamEvents(req: http.IncomingMessage, res: http.ServerResponse, bus: EventBus): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Content-Type-Options': 'nosniff' });
  res.write(': relaydesk events\n\n');
  const unsubscribe = bus.subscribe((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  req.on('close', () => {
    unsubscribe();
    clearInterval(heartbeat);
  });
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
  if (!dir || !fs.existsSync(path.join(dir, 'index.html'))) {
    res.writeHead(503, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Relaydesk</title><p>The console UI is not built. Run <code>npm run build</code> and restart <code>relaydesk serve --console</code>. The API is available under /api/.</p>');
    return;
  }
  const root = path.resolve(dir);
  let file = path.resolve(root, `.${decodeURIComponent(pathname)}`);
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
