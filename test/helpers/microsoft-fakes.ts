// Loopback fakes that behave like Microsoft's services where Relaydesk depends on them:
// - the identity platform's token endpoint (/{tenant}/oauth2/v2.0/token): client credentials
//   with a client secret, or with a client assertion JWT (RFC 7523) whose RS256 signature, x5t
//   thumbprint, issuer, subject, audience and expiry are checked against the uploaded certificate;
// - Graph's sendMail (/v1.0/users/{mailbox}/sendMail): checks the bearer token, Content-Type
//   text/plain and that the body is base64 of a MIME message; answers 202, or what the test
//   scripted (400 with Graph's error JSON, 429 with Retry-After, 401…).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The tenant, app registration and mailbox the Graph and route tests sign in with. */
export const TENANT = 'contoso.onmicrosoft.com';
export const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
export const SECRET = 'graph-app-secret-value';
export const MAILBOX = 'relay@contoso.com';

async function body(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface TokenFake {
  /** The login URL (authority) to give Relaydesk: http://127.0.0.1:PORT */
  url: string;
  /** Access tokens issued, in order. */
  issued: string[];
  /** Refusals, with the reason (for the test's messages). */
  refused: string[];
  /** Refuse every request as a revoked or wrong client secret would be. */
  refuseAll: boolean;
  /** Device codes handed out (delegated sign-in), and the mailbox that approved each. */
  deviceCodes: Map<string, { userCode: string; approvedBy: string | null }>;
  /** The user enters the code and signs in as `mailbox` (what happens in the browser at microsoft.com/devicelogin). */
  approve(userCode: string, mailbox: string): void;
  close(): Promise<void>;
}

export async function startTokenFake(options: { tenant: string; clientId: string; clientSecret?: string; certificatePem?: string; scope: string; delegatedScope?: string }): Promise<TokenFake> {
  const issued: string[] = [];
  const refused: string[] = [];
  let base = '';
  const deviceCodes = new Map<string, { userCode: string; approvedBy: string | null }>();
  const refreshTokens = new Set<string>();
  const fake: TokenFake = {
    url: '', issued, refused, refuseAll: false, deviceCodes, close: async () => undefined,
    approve(userCode, mailbox) {
      for (const entry of deviceCodes.values()) if (entry.userCode === userCode) entry.approvedBy = mailbox;
    },
  };
  const grant = (res: http.ServerResponse, withRefresh: boolean) => {
    const token = `graph-${crypto.randomBytes(12).toString('hex')}`;
    issued.push(token);
    const refresh = withRefresh ? `refresh-${crypto.randomBytes(12).toString('hex')}` : null;
    if (refresh) refreshTokens.add(refresh);
    return json(res, 200, { token_type: 'Bearer', expires_in: 3599, access_token: token, ...(refresh ? { refresh_token: refresh, scope: options.delegatedScope } : {}) });
  };
  const refuse = (res: http.ServerResponse, error: string, description: string) => {
    refused.push(`${error}: ${description}`);
    json(res, 401, { error, error_description: `AADSTS7000215: ${description}` });
  };
  const server = http.createServer((req, res) => void (async () => {
    const path = `/${options.tenant}/oauth2/v2.0/token`;
    if (req.method === 'POST' && req.url === `/${options.tenant}/oauth2/v2.0/devicecode`) {
      const form = new URLSearchParams(await body(req));
      if (form.get('client_id') !== options.clientId || form.get('scope') !== options.delegatedScope) return json(res, 400, { error: 'invalid_scope', error_description: `expected ${options.delegatedScope}` });
      const deviceCode = crypto.randomBytes(16).toString('hex');
      const userCode = crypto.randomBytes(4).toString('hex').toUpperCase();
      deviceCodes.set(deviceCode, { userCode, approvedBy: null });
      return json(res, 200, { device_code: deviceCode, user_code: userCode, verification_uri: `${base}/devicelogin`, expires_in: 900, interval: 1, message: `To sign in, enter ${userCode}` });
    }
    if (req.method !== 'POST' || req.url !== path) return json(res, 404, { error: 'not_found' });
    const form = new URLSearchParams(await body(req));
    if (form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code') {
      const entry = deviceCodes.get(form.get('device_code') ?? '');
      if (!entry) return json(res, 400, { error: 'expired_token' });
      if (!entry.approvedBy) return json(res, 400, { error: 'authorization_pending' });
      return grant(res, true);
    }
    if (form.get('grant_type') === 'refresh_token') {
      if (!refreshTokens.has(form.get('refresh_token') ?? '')) return json(res, 400, { error: 'invalid_grant', error_description: 'AADSTS70000: The refresh token has expired.' });
      return grant(res, true);
    }
    if (fake.refuseAll) return refuse(res, 'invalid_client', 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
    if (form.get('grant_type') !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
    if (form.get('scope') !== options.scope) return json(res, 400, { error: 'invalid_scope', error_description: `expected ${options.scope}` });
    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      if (!options.certificatePem) return refuse(res, 'invalid_client', 'no certificate uploaded for this app');
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return refuse(res, 'invalid_client', 'wrong assertion type');
      const [h, p, s] = assertion.split('.');
      const header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString()) as Record<string, string>;
      const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, string | number>;
      const certificate = new crypto.X509Certificate(options.certificatePem);
      const thumbprint = crypto.createHash('sha1').update(certificate.raw).digest('base64url');
      if (header.alg !== 'RS256') return refuse(res, 'invalid_client', `alg ${header.alg}`);
      if (header.x5t !== thumbprint) return refuse(res, 'invalid_client', 'x5t does not match the uploaded certificate');
      if (!crypto.verify('sha256', Buffer.from(`${h}.${p}`), certificate.publicKey, Buffer.from(s ?? '', 'base64url'))) return refuse(res, 'invalid_client', 'signature does not verify');
      if (payload.iss !== options.clientId || payload.sub !== options.clientId) return refuse(res, 'invalid_client', 'iss/sub is not the client ID');
      if (payload.aud !== `${base}${path}`) return refuse(res, 'invalid_client', `aud ${String(payload.aud)} is not the token endpoint`);
      if (typeof payload.exp !== 'number' || payload.exp * 1000 < Date.now()) return refuse(res, 'invalid_client', 'expired assertion');
      if (typeof payload.jti !== 'string') return refuse(res, 'invalid_client', 'no jti');
    } else {
      if (form.get('client_id') !== options.clientId || !options.clientSecret || form.get('client_secret') !== options.clientSecret) {
        return refuse(res, 'invalid_client', 'Invalid client secret provided');
      }
    }
    return grant(res, false);
  })().catch((err: Error) => json(res, 500, { error: 'server_error', error_description: err.message })));
  base = await listen(server);
  fake.url = base;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}

export interface GraphReply { status: number; code?: string; message?: string; retryAfter?: string }

export interface GraphFake {
  url: string;
  /** Accepted messages: the mailbox and the decoded MIME. */
  sent: Array<{ mailbox: string; mime: Buffer; token: string }>;
  /** Requests seen, accepted or not. */
  requests: number;
  /** Replies to give before answering 202 again, in order. */
  script: GraphReply[];
  /** Tokens the fake accepts (the token fake's issued list). */
  close(): Promise<void>;
}

export async function startGraphFake(validTokens: () => readonly string[]): Promise<GraphFake> {
  const fake: GraphFake = { url: '', sent: [], requests: 0, script: [], close: async () => undefined };
  const server = http.createServer((req, res) => void (async () => {
    const match = /^\/v1\.0\/users\/([^/]+)\/sendMail$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) return json(res, 404, { error: { code: 'ResourceNotFound', message: 'Resource not found' } });
    fake.requests++;
    const text = await body(req);
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (!validTokens().includes(token)) return json(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.' } });
    if (req.headers['content-type'] !== 'text/plain') return json(res, 400, { error: { code: 'RequestBodyRead', message: 'Cannot read the request body: Content-Type must be text/plain for MIME' } });
    const mime = Buffer.from(text, 'base64');
    if (mime.toString('base64') !== text.replace(/\s+/g, '') || !/\r\n\r\n/.test(mime.toString('latin1'))) {
      return json(res, 400, { error: { code: 'ErrorMimeContentInvalidBase64String', message: 'Invalid base64 string for MIME content.' } });
    }
    const scripted = fake.script.shift();
    if (scripted) {
      return json(res, scripted.status, { error: { code: scripted.code ?? 'Error', message: scripted.message ?? '' } }, scripted.retryAfter ? { 'retry-after': scripted.retryAfter } : {});
    }
    fake.sent.push({ mailbox: decodeURIComponent(match[1] ?? ''), mime, token });
    res.writeHead(202, { 'request-id': crypto.randomUUID() });
    res.end();
  })().catch((err: Error) => json(res, 500, { error: { code: 'InternalServerError', message: err.message } })));
  fake.url = await listen(server);
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}
