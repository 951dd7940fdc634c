// A real OAuth 2.0 authorization server on loopback (oidc-provider): PKCE authorization code with
// loopback redirects, device authorization (RFC 8628), refresh tokens, client credentials,
// revocation. Access tokens are JWTs for the resource "urn:relaydesk:smtp" with scope smtp.send;
// the test smart host verifies them against this server's JWKS. The "user" of the browser steps
// is scripted here (cookies, forms, redirects), approving as the account given.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';

export const SMTP_RESOURCE = 'urn:relaydesk:smtp';
export const PUBLIC_CLIENT = 'relaydesk-desktop';
export const APP_CLIENT = 'relaydesk-daemon';
export const APP_SECRET = 'daemon-secret-value-0123456789abcdef';

export interface OAuthTestServer {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  deviceEndpoint: string;
  /** Grants seen at the token endpoint, by grant_type. */
  grants: Map<string, number>;
  /** Access token lifetime in seconds for the next tokens. */
  accessTokenSeconds: number;
  /** Verify an access token as the smart host does: signature, issuer, audience, scope; returns the account. */
  verify(token: string): Promise<string>;
  /** Play the user in the browser: open the authorization URL, sign in as account, approve, land on the redirect. */
  approveInBrowser(url: string, account: string): Promise<string>;
  /** Play the user on another device: enter the user code, sign in as account, approve. */
  approveDeviceCode(verificationUri: string, userCode: string, account: string): Promise<void>;
  /** Revoke a refresh token, as an admin revoking consent or a password change would. */
  revoke(refreshToken: string): Promise<void>;
  close(): Promise<void>;
}

class Browser {
  private cookies = new Map<string, string>();

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; location: string | null; body: string; url: string }> {
    const response = await fetch(url, {
      method: init.method ?? 'GET', redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const location = response.headers.get('location');
    return { status: response.status, location: location ? new URL(location, url).toString() : null, body: await response.text(), url };
  }

  /** Follow redirects (and auto-submitted form posts) until a page or the stop prefix. */
  async follow(url: string, stopAt: string | null, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ url: string; body: string }> {
    let current = await this.request(url, init);
    for (let hops = 0; hops < 20; hops++) {
      if (current.location) {
        if (stopAt && current.location.startsWith(stopAt)) return { url: current.location, body: '' };
        current = await this.request(current.location);
        continue;
      }
      const autoPost = /<form method="post" action="([^"]+)">/.exec(current.body);
      if (autoPost && /document\.forms\[0\]\.submit\(\)|onload/.test(current.body)) {
        current = await this.request(new URL(autoPost[1] ?? '', current.url).toString(), { method: 'POST', form: hiddenInputs(current.body) });
        continue;
      }
      return { url: current.url, body: current.body };
    }
    throw new Error('too many redirects');
  }
}

function hiddenInputs(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)) fields[match[1] ?? ''] = match[2] ?? '';
  return fields;
}

export async function startOAuthServer(options: { accessTokenSeconds?: number } = {}): Promise<OAuthTestServer> {
  const grants = new Map<string, number>();
  const state = { accessTokenSeconds: options.accessTokenSeconds ?? 3600 };
  let pendingAccount = 'nobody';
  const httpServer = http.createServer();
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
  const issuer = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;

  const configuration: Configuration = {
    clients: [
      { client_id: PUBLIC_CLIENT, application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/'],
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'], response_types: ['code'] },
      { client_id: APP_CLIENT, client_secret: APP_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
    ],
    scopes: ['openid', 'offline_access', 'smtp.send'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => SMTP_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'smtp.send', audience: SMTP_RESOURCE, accessTokenFormat: 'jwt', accessTokenTTL: state.accessTokenSeconds }),
      },
    },
    // Every sign-in of the public client gets a refresh token, as Microsoft's and Google's do for offline access.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    rotateRefreshToken: true,
    ttl: { RefreshToken: 86_400, DeviceCode: 600, Grant: 86_400, Session: 86_400, Interaction: 600, AuthorizationCode: 60 },
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['test-cookie-key-not-secret'] },
  };
  const provider = new Provider(issuer, configuration);
  provider.on('grant.success', (ctx) => {
    const type = String((ctx.oidc.params as { grant_type?: string }).grant_type);
    grants.set(type, (grants.get(type) ?? 0) + 1);
  });
  const callback = provider.callback();

  httpServer.on('request', (req, res) => {
    if (!req.url?.startsWith('/interaction/')) {
      callback(req, res);
      return;
    }
    // The user signs in as pendingAccount and approves every requested scope and resource.
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: pendingAccount, clientId: String(details.params.client_id) });
        if (!grant) throw new Error('grant vanished');
        grant.addOIDCScope('openid offline_access smtp.send');
        grant.addResourceScope(SMTP_RESOURCE, 'smtp.send');
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { login: { accountId: pendingAccount }, consent: { grantId } }, { mergeWithLastSubmission: false });
      } catch (err) {
        res.statusCode = 500;
        res.end(String(err));
      }
    })();
  });

  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const server: OAuthTestServer = {
    issuer,
    authorizationEndpoint: `${issuer}/auth`,
    tokenEndpoint: `${issuer}/token`,
    deviceEndpoint: `${issuer}/device/auth`,
    grants,
    get accessTokenSeconds() { return state.accessTokenSeconds; },
    set accessTokenSeconds(value: number) { state.accessTokenSeconds = value; },
    async verify(token) {
      const { payload } = await jwtVerify(token, jwks, { issuer, audience: SMTP_RESOURCE });
      if (!String(payload.scope ?? '').split(' ').includes('smtp.send')) throw new Error('token lacks smtp.send');
      return String(payload.sub ?? payload.client_id);
    },
    async approveInBrowser(url, account) {
      pendingAccount = account;
      const redirect = new URL(url).searchParams.get('redirect_uri') ?? '';
      const end = await new Browser().follow(url, redirect);
      if (!end.url.startsWith(redirect)) throw new Error(`the authorization server did not redirect back: ${end.body.slice(0, 300)}`);
      // The browser lands on the app's loopback listener, which takes the code from there.
      const landed = await fetch(end.url);
      if (!landed.ok) throw new Error(`the loopback redirect answered ${landed.status}`);
      return end.url;
    },
    async approveDeviceCode(verificationUri, userCode, account) {
      pendingAccount = account;
      const browser = new Browser();
      const page = await browser.follow(verificationUri, null);
      const form = { ...hiddenInputs(page.body), user_code: userCode };
      const confirm = await browser.follow(`${issuer}/device`, null, { method: 'POST', form });
      const done = await browser.follow(`${issuer}/device`, null, { method: 'POST', form: { ...hiddenInputs(confirm.body), user_code: userCode, confirm: 'yes' } });
      if (!/Sign-in Success|signed in|success/i.test(done.body)) throw new Error(`device approval did not finish: ${done.body.slice(0, 500)}`);
    },
    async revoke(refreshToken) {
      const response = await fetch(`${issuer}/token/revocation`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token', client_id: PUBLIC_CLIENT }).toString(),
      });
      if (!response.ok) throw new Error(`revocation failed: ${response.status} ${await response.text()}`);
    },
    close: () => new Promise((resolve) => { httpServer.closeAllConnections(); httpServer.close(() => resolve()); }),
  };
  return server;
}
