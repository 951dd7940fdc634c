// The OAuth 2.0 exchanges with Microsoft's, Google's or a custom authorization server, through
// openid-client: authorization code with PKCE and a loopback redirect (RFC 8252 §7.3), device
// authorization (RFC 8628), client credentials, and refresh. Endpoints come from the settings, so
// tests use a real authorization server on loopback through the same code.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as OpenIdClient from 'openid-client';
import { type OAuth2Settings, oauthEndpoints } from '../contract/settings';

export interface Tokens { accessToken: string; refreshToken: string | null; expiresAt: Date }

/** What the admin must do for a device-code sign-in. */
export interface DevicePrompt { userCode: string; verificationUri: string; verificationUriComplete: string | null; expiresAt: string }

/** The authorization server refused: permanent (invalid_grant, consent revoked, bad client) or not. */
export class OAuthError extends Error {
  constructor(message: string, readonly error: string, readonly permanent: boolean) {
    super(message);
    this.name = 'OAuthError';
  }
}

/** openid-client loads on the first sign-in or refresh, not with every `serve` that never uses OAuth2. */
type Client = typeof OpenIdClient;
const openid = (): Promise<Client> => import('openid-client');

const PERMANENT = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'access_denied', 'expired_token', 'invalid_scope', 'consent_required', 'interaction_required']);

function configuration(client: Client, settings: OAuth2Settings, extra: Partial<OpenIdClient.ServerMetadata> = {}): OpenIdClient.Configuration {
  const endpoints = oauthEndpoints(settings);
  const metadata: OpenIdClient.ServerMetadata = {
    ...extra,
    // No ID token is requested (no "openid" scope), so the issuer is only a label here.
    issuer: new URL(endpoints.token).origin,
    token_endpoint: endpoints.token,
    ...(endpoints.authorization ? { authorization_endpoint: endpoints.authorization } : {}),
    ...(endpoints.device ? { device_authorization_endpoint: endpoints.device } : {}),
  };
  const auth = settings.clientSecret ? client.ClientSecretPost(settings.clientSecret) : client.None();
  const config = new client.Configuration(metadata, settings.clientId, settings.clientSecret ? { client_secret: settings.clientSecret } : undefined, auth);
  config.timeout = 30;
  // The schema allows http only on loopback (a test server, an identity server on this machine).
  if ([endpoints.token, endpoints.authorization, endpoints.device, endpoints.revocation].some((url) => url?.startsWith('http:'))) client.allowInsecureRequests(config);
  return config;
}

function tokensOf(response: OpenIdClient.TokenEndpointResponse, now: Date): Tokens {
  if (!response.access_token) throw new OAuthError('the token endpoint returned no access token', 'invalid_response', false);
  return { accessToken: response.access_token, refreshToken: response.refresh_token ?? null, expiresAt: new Date(now.getTime() + (response.expires_in ?? 3600) * 1000) };
}

/** Map openid-client's errors to OAuthError with the provider's code and description (never a token). */
async function exchange<T>(client: Client, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    if (err instanceof client.ResponseBodyError) {
      const description = err.error_description ? `: ${err.error_description.split(/\r?\n/)[0]}` : '';
      throw new OAuthError(`${what} refused (${err.error}${description})`, err.error, PERMANENT.has(err.error));
    }
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new OAuthError(`${what} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`, 'unreachable', false);
  }
}

export async function refreshAccessToken(settings: OAuth2Settings, refreshToken: string, now: () => Date): Promise<Tokens> {
  const client = await openid();
  const config = configuration(client, settings);
  return exchange(client, 'token refresh', async () => tokensOf(await client.refreshTokenGrant(config, refreshToken), now()));
}

/** RFC 7009: tell the provider to forget a refresh token (sign-out). Throws OAuthError when it refuses. */
export async function revokeRefreshToken(settings: OAuth2Settings, refreshToken: string): Promise<void> {
  const endpoint = oauthEndpoints(settings).revocation;
  if (!endpoint) throw new OAuthError('the provider offers no token revocation', 'unsupported', true);
  const client = await openid();
  const config = configuration(client, settings, { revocation_endpoint: endpoint });
  await exchange(client, 'token revocation', () => client.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' }));
}

/** A stored certificate and its key, for a client assertion. */
export interface ClientCertificate { certPem: string; keyPem: string }

/**
 * Client credentials (app-only): with the client secret, or with a certificate whose key signs a
 * client assertion (RFC 7523 private_key_jwt, RS256). Microsoft finds the certificate by its
 * thumbprint in the JWT header (x5t, and x5t#S256) and wants the token endpoint as audience.
 */
export async function appOnlyToken(settings: OAuth2Settings, now: () => Date, certificate: ClientCertificate | null = null): Promise<Tokens> {
  if (!settings.clientSecret && !certificate) throw new OAuthError('the app-only (client credentials) flow needs the client secret or a certificate', 'invalid_client', true);
  const client = await openid();
  const endpoints = oauthEndpoints(settings);
  const config = certificate ? await assertionConfiguration(client, settings, certificate, endpoints.token) : configuration(client, settings);
  return exchange(client, 'app-only token request', async () => tokensOf(await client.clientCredentialsGrant(config, { scope: endpoints.scope }), now()));
}

async function assertionConfiguration(client: Client, settings: OAuth2Settings, certificate: ClientCertificate, tokenEndpoint: string): Promise<OpenIdClient.Configuration> {
  const der = new crypto.X509Certificate(certificate.certPem).raw;
  const pkcs8 = crypto.createPrivateKey(certificate.keyPem).export({ format: 'der', type: 'pkcs8' });
  if (crypto.createPrivateKey(certificate.keyPem).asymmetricKeyType !== 'rsa') throw new OAuthError('the certificate for app-only sign-in must have an RSA key (Microsoft accepts RS256 assertions)', 'invalid_client', true);
  const key = await crypto.webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  const auth = client.PrivateKeyJwt({ key }, {
    [client.modifyAssertion]: (header: Record<string, unknown>, payload: Record<string, unknown>) => {
      header.x5t = crypto.createHash('sha1').update(der).digest('base64url');
      header['x5t#S256'] = crypto.createHash('sha256').update(der).digest('base64url');
      payload.aud = tokenEndpoint;
    },
  });
  const base = configuration(client, { ...settings, clientSecret: null });
  const config = new client.Configuration(base.serverMetadata(), settings.clientId, undefined, auth);
  config.timeout = 30;
  if (tokenEndpoint.startsWith('http:')) client.allowInsecureRequests(config);
  return config;
}

/**
 * Authorization code with PKCE: a one-shot HTTP listener on loopback receives the redirect. The
 * URL goes to onUrl (the desktop app opens the system browser; the CLI prints it).
 */
export async function signInWithBrowser(settings: OAuth2Settings, options: { loginHint: string | null; onUrl(url: string): void; signal: AbortSignal; now(): Date }): Promise<Tokens> {
  const client = await openid();
  const config = configuration(client, settings);
  const endpoints = oauthEndpoints(settings);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const listener = await loopbackListener(endpoints.redirectHost);
  try {
    const redirectUri = `http://${endpoints.redirectHost}:${listener.port}/`;
    const extra: Record<string, string> = settings.provider === 'google' ? { access_type: 'offline', prompt: 'consent' } : {};
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: endpoints.scope, state, code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256', ...(options.loginHint && settings.provider !== 'custom' ? { login_hint: options.loginHint } : {}), ...extra,
    });
    options.onUrl(url.toString());
    const callback = await listener.next(options.signal);
    const error = callback.searchParams.get('error');
    if (error) throw new OAuthError(`sign-in refused (${error}${callback.searchParams.get('error_description') ? `: ${callback.searchParams.get('error_description')}` : ''})`, error, true);
    return await exchange(client, 'code exchange', async () => tokensOf(await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }, { redirect_uri: redirectUri }), options.now()));
  } finally {
    listener.close();
  }
}

/** Device authorization: show the code, poll until the admin has approved it elsewhere. */
export async function signInWithDeviceCode(settings: OAuth2Settings, options: { onPrompt(prompt: DevicePrompt): void; signal: AbortSignal; now(): Date }): Promise<Tokens> {
  const client = await openid();
  const config = configuration(client, settings);
  const started = await exchange(client, 'device authorization', () => client.initiateDeviceAuthorization(config, { scope: oauthEndpoints(settings).scope }));
  options.onPrompt({
    userCode: started.user_code, verificationUri: started.verification_uri, verificationUriComplete: started.verification_uri_complete ?? null,
    expiresAt: new Date(options.now().getTime() + started.expires_in * 1000).toISOString(),
  });
  return exchange(client, 'device sign-in', async () => tokensOf(await client.pollDeviceAuthorizationGrant(config, started, undefined, { signal: options.signal }), options.now()));
}

interface LoopbackListener { port: number; next(signal: AbortSignal): Promise<URL>; close(): void }

/** RFC 8252 §7.3: listen on the loopback address only, on a port the OS picks. */
async function loopbackListener(redirectHost: string): Promise<LoopbackListener> {
  let deliver: ((url: URL) => void) | null = null;
  const arrived: URL[] = [];
  const handler: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    if (!url.searchParams.has('code') && !url.searchParams.has('error')) {
      res.writeHead(404).end();
      return;
    }
    const ok = url.searchParams.has('code');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html><meta charset="utf-8"><title>Relaydesk</title><body style="font-family:sans-serif;margin:3em">
      <h1>${ok ? 'Relaydesk is signed in' : 'Sign-in was not completed'}</h1><p>You can close this tab and return to Relaydesk.</p></body>`);
    arrived.push(url);
    deliver?.(url);
  };
  const servers = [http.createServer(handler)];
  await new Promise<void>((resolve, reject) => {
    servers[0]?.once('error', reject).listen(0, '127.0.0.1', () => resolve());
  });
  const port = (servers[0]?.address() as AddressInfo).port;
  if (redirectHost === 'localhost') {
    // A browser may resolve localhost to ::1 first; listen there too when IPv6 loopback exists.
    const v6 = http.createServer(handler);
    await new Promise<void>((resolve) => {
      v6.once('error', () => resolve()).listen(port, '::1', () => { servers.push(v6); resolve(); });
    });
  }
  return {
    port,
    next: (signal) => new Promise<URL>((resolve, reject) => {
      const first = arrived.shift();
      if (first) return resolve(first);
      if (signal.aborted) return reject(new OAuthError('sign-in cancelled or timed out', 'cancelled', false));
      deliver = resolve;
      signal.addEventListener('abort', () => reject(new OAuthError('sign-in cancelled or timed out', 'cancelled', false)), { once: true });
    }),
    close: () => { for (const server of servers) { server.closeAllConnections(); server.close(); } },
  };
}
