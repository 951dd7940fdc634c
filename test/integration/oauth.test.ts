// OAuth2 (XOAUTH2) sign-in to a smart host, end to end on loopback: a real authorization server
// (oidc-provider) issuing, refreshing and revoking tokens through the endpoints in the settings,
// and an smtp-server smart host that accepts only XOAUTH2 with a token that verifies against that
// server's keys. The CLI runs the sign-ins as an admin would; the "user" in the browser or on the
// other device is scripted against the authorization server's own pages.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdminHandlers } from '../../server/admin';
import type { RelaydeskEvent } from '../../server/contract/events';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { fileKeySecretBox } from '../../server/oauth/secret-box';
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';
import { createSelfSignedCertificate } from '../../server/tls/certificate-tools';
import { APP_CLIENT, APP_SECRET, type OAuthTestServer, PUBLIC_CLIENT, startOAuthServer } from '../helpers/oauth-server';
import { BIN, cli } from '../helpers/serve-process';
import { eventually, startTestApp, type TestApp } from '../helpers/test-app';

const MAILBOX = 'scanner@contoso.example';
const PASSWORD = 'correct horse battery';

/** A smart host that signs in only with XOAUTH2 and checks each token with the authorization server. */
class XOAuthSmartHost {
  server!: SMTPServer;
  port = 0;
  accepted: Array<{ to: string[]; user: string }> = [];
  refusedTokens = 0;

  constructor(private readonly oauth: OAuthTestServer) {}

  async start(): Promise<void> {
    const { certPem, keyPem } = await createSelfSignedCertificate({ commonName: 'smtp.contoso.example' });
    this.server = new SMTPServer({
      key: keyPem, cert: certPem, logger: false, disableReverseLookup: true, authMethods: ['XOAUTH2'],
      onAuth: (auth, _session, cb) => {
        void this.oauth.verify(auth.accessToken ?? '').then((subject) => {
          // A user's token must be that user's; an app-only token may send as the mailbox it was granted.
          if (subject !== auth.username && subject !== APP_CLIENT) throw new Error('token of another account');
          cb(null, { user: auth.username });
        }).catch(() => {
          this.refusedTokens++;
          cb(null, { data: { status: '401', schemes: 'bearer', scope: 'smtp.send' } });
        });
      },
      onData: (stream, session, cb) => {
        stream.resume();
        stream.on('end', () => {
          this.accepted.push({ to: session.envelope.rcptTo.map((r) => r.address), user: String(session.user) });
          cb();
        });
      },
    });
    this.server.on('error', () => undefined);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as { port: number }).port;
  }

  delivered(address: string): boolean {
    return this.accepted.some((a) => a.to.includes(address));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let oauth: OAuthTestServer;
let smartHost: XOAuthSmartHost;
const open: TestApp[] = [];

beforeAll(async () => {
  oauth = await startOAuthServer();
  smartHost = new XOAuthSmartHost(oauth);
  await smartHost.start();
});
afterAll(async () => {
  await smartHost.stop();
  await oauth.close();
});
afterEach(async () => {
  oauth.accessTokenSeconds = 3600;
  for (const t of open.splice(0)) await t.close();
});

function oauthSettings(flow: 'browser' | 'device' | 'app') {
  return {
    provider: 'custom' as const, tenant: 'organizations', clientId: flow === 'app' ? APP_CLIENT : PUBLIC_CLIENT, clientSecret: flow === 'app' ? APP_SECRET : null, flow,
    authorizationEndpoint: oauth.authorizationEndpoint, tokenEndpoint: oauth.tokenEndpoint, deviceEndpoint: oauth.deviceEndpoint, scope: 'smtp.send offline_access',
  };
}

async function oauthApp(flow: 'browser' | 'device' | 'app'): Promise<TestApp> {
  const t = await startTestApp({
    users: [{ name: 'alice', password: PASSWORD }],
    domains: ['example.com'],
    server: {
      delivery: {
        holdRemote: false,
        smartHost: { host: '127.0.0.1', port: smartHost.port, security: 'starttls', verifyCertificate: false, authentication: 'oauth2', user: MAILBOX, password: null, trustedCertificate: null, oauth2: oauthSettings(flow) },
        retryMinutes: { first: 0.02, second: 0.02, third: 0.02, subsequent: 0.02 },
      },
    },
  });
  open.push(t);
  return t;
}

async function submit(t: TestApp, to: string): Promise<string> {
  const { client } = await RawSmtp.connect(t.port);
  await client.command('EHLO office.test');
  await client.startTls();
  await client.command('EHLO office.test');
  await client.command(`AUTH PLAIN ${plainAuth('alice', PASSWORD)}`);
  await client.command('MAIL FROM:<alice@example.com>');
  await client.command(`RCPT TO:<${to}>`);
  await client.command('DATA');
  const reply = await client.command('Subject: scan\r\n\r\nScanned page.\r\n.');
  client.close();
  expect(reply.code).toBe(250);
  return reply.raw.split(' ').pop() as string;
}

/** `relaydesk smarthost signin` as a child process: the admin reads its output and acts on it. */
function signInProcess(dir: string): { output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'smarthost', 'signin', DEFAULT_SERVER_NAME, '--data', dir], { stdio: 'pipe' });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return { output: () => out, exited: new Promise((resolve) => child.on('exit', (code) => { clearTimeout(timer); resolve(code); })) };
}

describe('OAuth2 sign-in from the command line', () => {
  it('configures with `smarthost oauth`, signs in with PKCE in the browser, delivers with XOAUTH2, keeps the refresh token sealed', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'], server: { delivery: { holdRemote: false, retryMinutes: { first: 0.02, second: 0.02, third: 0.02, subsequent: 0.02 } } } });
    open.push(t);
    const data = ['--data', t.dir];
    const configured = await cli(['smarthost', 'oauth', DEFAULT_SERVER_NAME, '--provider', 'custom', '--client-id', PUBLIC_CLIENT, '--user', MAILBOX, '--flow', 'browser',
      '--host', '127.0.0.1', '--port', String(smartHost.port), '--no-verify', '--auth-url', oauth.authorizationEndpoint, '--token-url', oauth.tokenEndpoint, '--scope', 'smtp.send offline_access', ...data]);
    expect(configured.stderr).toBe('');
    expect(configured.stdout).toContain(`signs in to 127.0.0.1 with OAuth2 (custom, browser sign-in) as ${MAILBOX}`);
    const badUrl = await cli(['smarthost', 'oauth', DEFAULT_SERVER_NAME, '--provider', 'custom', '--client-id', PUBLIC_CLIENT, '--user', MAILBOX, '--host', 'x', '--token-url', 'http://auth.example/token', ...data]);
    expect(badUrl.stderr).toMatch(/tokenEndpoint: must be https/);
    expect((await cli(['smarthost', 'status', DEFAULT_SERVER_NAME, ...data])).stdout).toContain('State:         not signed in');

    // Mail waits while nobody has signed in: deferred with the reason, not bounced.
    const early = await submit(t, 'early@partner.test');
    const waiting = await eventually(() => {
      const r = t.app.store.getMessage(early)?.recipients[0];
      return r && r.attempts > 0 ? r : null;
    }, 10_000);
    expect(waiting.state).toBe('queued');
    expect(waiting.lastReply).toMatch(/^454 4\.7\.0 Sign-in to the smart host needed \(not signed in yet/);
    // The Queues page calls it what it is, and its filter finds it.
    expect((await createAdminHandlers(t.app)['queue.list']({ status: 'waiting-for-sign-in', limit: 200 })).messages.map((m) => m.id)).toContain(early);

    const signIn = signInProcess(t.dir);
    const url = await eventually(() => /(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)/.exec(signIn.output())?.[1], 15_000);
    const authorize = new URL(url);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    await oauth.approveInBrowser(url, MAILBOX);
    expect(await signIn.exited).toBe(0);
    expect(signIn.output()).toMatch(new RegExp(`signed in as ${MAILBOX.replace('.', '\\.')}; access token valid until \\d{4}-`));

    // The waiting message goes at once (not at its next retry), signed in as the mailbox.
    await eventually(() => t.app.store.getMessage(early)?.state === 'done', 10_000);
    expect(smartHost.accepted.find((a) => a.to.includes('early@partner.test'))?.user).toBe(MAILBOX);
    const later = await submit(t, 'later@partner.test');
    await eventually(() => t.app.store.getMessage(later)?.state === 'done', 10_000);

    const row = t.app.store.getSignIn(DEFAULT_SERVER_NAME);
    expect(row?.refreshTokenSealed).toMatch(/^k1:/);
    const refreshToken = fileKeySecretBox(t.dir).open(row?.refreshTokenSealed ?? '');
    expect(refreshToken.length).toBeGreaterThan(20);
    for (const file of fs.readdirSync(t.dir).filter((f) => f.endsWith('.db') || f.endsWith('-wal'))) {
      expect(fs.readFileSync(path.join(t.dir, file)).includes(refreshToken), file).toBe(false);
    }
    if (process.platform !== 'win32') expect(fs.statSync(path.join(t.dir, 'secret.key')).mode & 0o777).toBe(0o600);
    const status = await cli(['smarthost', 'status', DEFAULT_SERVER_NAME, ...data]);
    expect(status.stdout).toContain('State:         signed in');
    expect(status.stdout).toContain(`Account:       ${MAILBOX}`);
    expect(status.stdout + (await cli(['config', 'export', '--with-secrets', ...data])).stdout).not.toContain(refreshToken);
  }, 60_000);

  it('signs in with the device code (RFC 8628) printed by `smarthost signin`', async () => {
    const t = await oauthApp('device');
    const signIn = signInProcess(t.dir);
    const prompt = await eventually(() => /open (\S+) and enter the code:\s+(\S+)/.exec(signIn.output()), 15_000);
    await oauth.approveDeviceCode(prompt[1] ?? '', prompt[2] ?? '', MAILBOX);
    expect(await signIn.exited).toBe(0);
    expect(oauth.grants.get('urn:ietf:params:oauth:grant-type:device_code')).toBeGreaterThanOrEqual(1);
    const id = await submit(t, 'device@partner.test');
    await eventually(() => t.app.store.getMessage(id)?.state === 'done', 10_000);
    expect(smartHost.delivered('device@partner.test')).toBe(true);
  }, 60_000);
});

describe('tokens during delivery', () => {
  it('refreshes the access token before it expires during a burst, one refresh at a time; nothing is lost', async () => {
    oauth.accessTokenSeconds = 6;
    const t = await oauthApp('browser');
    const api = createAdminHandlers(t.app);
    const started = await api['smarthost.signIn']({ server: DEFAULT_SERVER_NAME });
    expect(started.pending?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/);
    await oauth.approveInBrowser(started.pending?.url ?? '', MAILBOX);
    await eventually(async () => (await api['smarthost.status']({ server: DEFAULT_SERVER_NAME })).signedIn);
    const refreshesBefore = oauth.grants.get('refresh_token') ?? 0;
    const refusedBefore = smartHost.refusedTokens;
    const ids: string[] = [];
    const until = Date.now() + 9000;
    while (Date.now() < until && ids.length < 200) {
      ids.push(await submit(t, `burst${ids.length}@partner.test`));
      await new Promise((r) => setTimeout(r, 100));
    }
    await eventually(() => ids.every((id) => t.app.store.getMessage(id)?.state === 'done'), 20_000);
    for (let i = 0; i < ids.length; i++) expect(smartHost.delivered(`burst${i}@partner.test`)).toBe(true);
    const refreshes = (oauth.grants.get('refresh_token') ?? 0) - refreshesBefore;
    expect(refreshes).toBeGreaterThanOrEqual(1);
    expect(refreshes).toBeLessThanOrEqual(4); // 9 s of tokens that live 6 s: a refresh per token, not per message
    expect(smartHost.refusedTokens - refusedBefore).toBe(0);
  }, 60_000);

  it('a revoked refresh token defers mail and says "sign-in needed" once; after a new sign-in everything is delivered', async () => {
    oauth.accessTokenSeconds = 2;
    const t = await oauthApp('browser');
    const events: RelaydeskEvent[] = [];
    t.app.bus.subscribe((e) => { if (e.type === 'smarthost-sign-in') events.push(e); });
    const api = createAdminHandlers(t.app);
    await oauth.approveInBrowser((await api['smarthost.signIn']({ server: DEFAULT_SERVER_NAME })).pending?.url ?? '', MAILBOX);
    await eventually(async () => (await api['smarthost.status']({ server: DEFAULT_SERVER_NAME })).signedIn);
    const first = await submit(t, 'before@partner.test');
    await eventually(() => t.app.store.getMessage(first)?.state === 'done', 10_000);

    // Consent revoked at the provider; the cached access token runs out.
    await oauth.revoke(fileKeySecretBox(t.dir).open(t.app.store.getSignIn(DEFAULT_SERVER_NAME)?.refreshTokenSealed ?? ''));
    await new Promise((r) => setTimeout(r, 2500));
    const held = [await submit(t, 'held1@partner.test'), await submit(t, 'held2@partner.test')];
    await eventually(() => held.every((id) => (t.app.store.getMessage(id)?.recipients[0]?.attempts ?? 0) >= 2), 15_000);
    for (const id of held) {
      const r = t.app.store.getMessage(id)?.recipients[0];
      expect(r?.state).toBe('queued');
      expect(r?.lastReply).toMatch(/^454 4\.7\.0 Sign-in to the smart host needed .*invalid_grant/);
    }
    const needed = events.filter((e) => e.type === 'smarthost-sign-in' && e.outcome === 'sign-in-needed');
    expect(needed).toHaveLength(1);
    const status = await api['smarthost.status']({ server: DEFAULT_SERVER_NAME });
    expect(status).toMatchObject({ needsSignIn: true, signedIn: false });
    // While the grant is known to be gone, the provider is not asked again on every retry.
    const refreshes = oauth.grants.get('refresh_token') ?? 0;
    await new Promise((r) => setTimeout(r, 1500));
    expect(oauth.grants.get('refresh_token') ?? 0).toBe(refreshes);

    oauth.accessTokenSeconds = 3600;
    await oauth.approveInBrowser((await api['smarthost.signIn']({ server: DEFAULT_SERVER_NAME })).pending?.url ?? '', MAILBOX);
    await eventually(() => held.every((id) => t.app.store.getMessage(id)?.state === 'done'), 10_000);
    for (const address of ['held1@partner.test', 'held2@partner.test']) expect(smartHost.delivered(address)).toBe(true);
    expect(held.flatMap((id) => t.app.store.getMessage(id)?.recipients ?? []).every((r) => r.state === 'delivered')).toBe(true);
    expect(events.at(-1)).toMatchObject({ outcome: 'signed-in', account: MAILBOX });
  }, 60_000);

  it('keeps an idle sign-in fresh, warns at once when a refresh is refused, drops it when the mailbox changes, and revokes it at sign-out', async () => {
    oauth.accessTokenSeconds = 4;
    const t = await startTestApp({
      users: [{ name: 'alice', password: PASSWORD }], signInRefreshMs: 250,
      server: { delivery: { holdRemote: false, smartHost: { host: '127.0.0.1', port: smartHost.port, security: 'starttls', verifyCertificate: false, authentication: 'oauth2', user: MAILBOX, password: null, trustedCertificate: null, oauth2: { ...oauthSettings('browser'), revocationEndpoint: `${oauth.issuer}/token/revocation` } } } },
    });
    open.push(t);
    const api = createAdminHandlers(t.app);
    expect((await api['status.warnings']({})).map((w) => w.id)).toEqual([`sign-in:${DEFAULT_SERVER_NAME}`]); // never signed in
    await oauth.approveInBrowser((await api['smarthost.signIn']({ server: DEFAULT_SERVER_NAME })).pending?.url ?? '', MAILBOX);
    await eventually(async () => (await api['smarthost.status']({ server: DEFAULT_SERVER_NAME })).signedIn);
    expect(await api['status.warnings']({})).toEqual([]);
    // No mail at all: the token is refreshed ahead of its expiry anyway (4 s tokens, refreshed 1 s early).
    const before = oauth.grants.get('refresh_token') ?? 0;
    await eventually(() => (oauth.grants.get('refresh_token') ?? 0) >= before + 2, 15_000);
    // The provider revokes the grant: the next refresh is refused and the warning is there at once.
    await oauth.revoke(fileKeySecretBox(t.dir).open(t.app.store.getSignIn(DEFAULT_SERVER_NAME)?.refreshTokenSealed ?? ''));
    const warning = await eventually(async () => (await api['status.warnings']({}))[0], 10_000);
    expect(warning.message).toMatch(/sign-in of scanner@contoso\.example is no longer valid .*invalid_grant/);
    // Signed in again; then the mailbox changes: the old sign-in is dropped, not reused for the new account.
    await oauth.approveInBrowser((await api['smarthost.signIn']({ server: DEFAULT_SERVER_NAME })).pending?.url ?? '', MAILBOX);
    await eventually(async () => (await api['status.warnings']({})).length === 0);
    const shown = await api['servers.get']({ name: DEFAULT_SERVER_NAME });
    await api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { delivery: { ...shown.delivery, smartHost: { ...shown.delivery.smartHost!, user: 'frontdesk@contoso.example' } } } });
    expect(await api['smarthost.status']({ server: DEFAULT_SERVER_NAME })).toMatchObject({ signedIn: false, needsSignIn: true, account: 'frontdesk@contoso.example' });
    expect(t.app.store.getSignIn(DEFAULT_SERVER_NAME)?.refreshTokenSealed).toBeNull();
    // Sign-out revokes the refresh token at the provider (RFC 7009): it no longer refreshes anywhere.
    await oauth.approveInBrowser((await api['smarthost.signIn']({ server: DEFAULT_SERVER_NAME })).pending?.url ?? '', 'frontdesk@contoso.example');
    await eventually(async () => (await api['smarthost.status']({ server: DEFAULT_SERVER_NAME })).signedIn);
    const refreshToken = fileKeySecretBox(t.dir).open(t.app.store.getSignIn(DEFAULT_SERVER_NAME)?.refreshTokenSealed ?? '');
    const out = await api['smarthost.signOut']({ server: DEFAULT_SERVER_NAME }) as { revoked?: string };
    expect(out.revoked).toBe('the provider revoked the refresh token');
    const reuse = await fetch(oauth.tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: PUBLIC_CLIENT }).toString() });
    expect(((await reuse.json()) as { error?: string }).error).toBe('invalid_grant');
    oauth.accessTokenSeconds = 3600;
  }, 60_000);

  it('the app-only flow (client credentials) gets its own token, and the client secret stays out of plain exports', async () => {
    const t = await oauthApp('app');
    const id = await submit(t, 'app@partner.test');
    await eventually(() => t.app.store.getMessage(id)?.state === 'done', 10_000);
    expect(smartHost.accepted.find((a) => a.to.includes('app@partner.test'))?.user).toBe(MAILBOX);
    expect(oauth.grants.get('client_credentials')).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(t.app.store.exportConfig({ withSecrets: false }))).not.toContain(APP_SECRET);
    expect(JSON.stringify(t.app.store.exportConfig({ withSecrets: true }))).toContain(APP_SECRET);
    const status = (await cli(['smarthost', 'status', DEFAULT_SERVER_NAME, '--data', t.dir])).stdout;
    expect(status).toContain('Provider:      custom (app-only)');
    expect(status).not.toContain(APP_SECRET);
  }, 30_000);
});
