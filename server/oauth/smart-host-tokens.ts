// OAuth2 tokens for smart hosts. The access token is cached in memory and refreshed shortly
// before it expires (one refresh per server at a time, however many deliveries ask); the refresh
// token is sealed in the store. A refused refresh (invalid_grant: consent revoked, password
// changed) marks the server "sign-in needed", raises one event, and stops asking the provider
// until the admin signs in again; mail meanwhile waits in the queue (deferred, never bounced).
import type { SmartHostSignInStatus } from '../contract/admin-api';
import { AdminError } from '../contract/errors';
import { type DeliveryRoute, type OAuth2Settings, ROUTE_SEPARATOR, type SmartHost, signInIdentity, signInKey, type VirtualServerConfig } from '../contract/settings';
import type { EventBus } from '../log/event-bus';
import type { Store } from '../store/store';
import { appOnlyToken, type ClientCertificate, type DevicePrompt, OAuthError, refreshAccessToken, revokeRefreshToken, signInWithBrowser, signInWithDeviceCode, type Tokens } from './oauth-client';
import { type SecretBox, SecretBoxError } from './secret-box';

/** Delivery must wait for the admin: no usable grant. */
export class SignInNeeded extends Error {}
/** The provider could not be reached or failed; try again at the next retry. */
export class TokenUnavailable extends Error {}

const SIGN_IN_TIMEOUT_MS = 15 * 60_000;
/**
 * Refresh this long before the access token expires (a quarter of a short lifetime): Microsoft's
 * HVE refuses tokens close to expiry. Kept fresh this way, the refresh token is also used at least
 * once a token lifetime, far more often than weekly, so an idle server never loses its sign-in.
 */
const REFRESH_AHEAD_MS = 10 * 60_000;
export const SIGN_IN_CHECK_MS = 60_000;

interface CachedToken { token: string; expiresAt: number; refreshAt: number; signedInAt: string | null; identity: string | null }
type Pending = NonNullable<SmartHostSignInStatus['pending']>;

export interface SmartHostTokensDeps { store: Store; box: SecretBox; bus: EventBus; now(): Date }

function oauthOf(host: SmartHost | null, serverName: string): { host: SmartHost; settings: OAuth2Settings; account: string } {
  if (!host || host.authentication !== 'oauth2' || !host.oauth2 || !host.user) {
    throw new AdminError('conflict', `the smart host of "${serverName}" does not sign in with OAuth2 (relaydesk smarthost oauth ...)`, 'server');
  }
  return { host, settings: host.oauth2, account: host.user };
}

export class SmartHostTokens {
  private readonly cache = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly pending = new Map<string, { abort: AbortController; prompt: Pending | null; error: string | null }>();

  constructor(private readonly deps: SmartHostTokensDeps) {}

  private key(serverName: string): string {
    return serverName.toLowerCase();
  }

  /** A valid access token for the server's smart host, or SignInNeeded / TokenUnavailable. */
  async accessToken(config: VirtualServerConfig): Promise<string> {
    const { settings } = oauthOf(config.delivery.smartHost, config.name);
    const key = this.key(config.name);
    const row = this.deps.store.getSignIn(config.name);
    if (settings.flow !== 'app') {
      if (!row) throw new SignInNeeded('not signed in yet: relaydesk smarthost signin');
      if (row.needsSignIn) throw new SignInNeeded(`sign-in needed: ${row.lastError ?? 'the provider refused the refresh token'}`);
    }
    const cached = this.cache.get(key);
    const now = this.deps.now().getTime();
    const fresh = cached && now < cached.refreshAt && cached.identity === signInIdentity(config.delivery.smartHost);
    if (fresh && (settings.flow === 'app' || cached.signedInAt === row?.signedInAt)) return cached.token;
    let running = this.inflight.get(key);
    if (!running) {
      running = this.renew(config, settings).finally(() => this.inflight.delete(key));
      this.inflight.set(key, running);
    }
    return running;
  }

  /**
   * The settings a sign-in key names: a server ("Server", its smart host) or one of its routes
   * ("Server::Route", that route's smart host), as a server whose smart host is that one.
   */
  configFor(key: string): VirtualServerConfig {
    const at = key.lastIndexOf(ROUTE_SEPARATOR);
    if (at < 0) return this.deps.store.getServer(key);
    const server = this.deps.store.getServer(key.slice(0, at));
    const name = key.slice(at + ROUTE_SEPARATOR.length);
    const route = server.delivery.routes.find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (!route) throw new AdminError('not-found', `virtual server "${server.name}" has no route named "${name}"`, 'route');
    return routeView(server, route);
  }

  /** The stored certificate whose key signs the app-only client assertion, when one is named. */
  private clientCertificate(settings: OAuth2Settings): ClientCertificate | null {
    if (!settings.certificate) return null;
    const stored = this.deps.store.findCertificate(settings.certificate);
    if (!stored) throw new OAuthError(`the certificate "${settings.certificate}" for the app-only sign-in is not in the store`, 'invalid_client', true);
    return { certPem: stored.certPem, keyPem: stored.keyPem };
  }

  /** The smart host refused the token (revoked early, wrong mailbox): fetch a new one next time. */
  invalidate(serverName: string): void {
    this.cache.delete(this.key(serverName));
  }

  private remember(config: VirtualServerConfig, tokens: Tokens, signedInAt: string | null): string {
    const now = this.deps.now().getTime();
    const lifetime = Math.max(0, tokens.expiresAt.getTime() - now);
    this.cache.set(this.key(config.name), {
      token: tokens.accessToken, expiresAt: tokens.expiresAt.getTime(), refreshAt: now + lifetime - Math.min(REFRESH_AHEAD_MS, lifetime / 4),
      signedInAt, identity: signInIdentity(config.delivery.smartHost),
    });
    return tokens.accessToken;
  }

  /**
   * Keep every signed-in smart host's access token fresh without waiting for mail: called now and
   * then (SIGN_IN_CHECK_MS) by the app. A refused refresh is recorded and raised at once.
   */
  async refreshAhead(servers: readonly VirtualServerConfig[]): Promise<void> {
    const now = this.deps.now().getTime();
    const views = servers.flatMap((server) => [server, ...server.delivery.routes.map((route) => routeView(server, route))]);
    await Promise.all(views.map(async (config) => {
      const host = config.delivery.smartHost;
      if (host?.authentication !== 'oauth2' || !host.oauth2 || !host.user) return;
      const row = this.deps.store.getSignIn(config.name);
      if (host.oauth2.flow !== 'app' && (!row || row.needsSignIn)) return;
      const cached = this.cache.get(this.key(config.name));
      if (cached && now < cached.refreshAt && cached.identity === signInIdentity(host) && (host.oauth2.flow === 'app' || cached.signedInAt === row?.signedInAt)) return;
      await this.accessToken(config).catch(() => undefined); // recorded by refused()
    }));
  }

  private async renew(config: VirtualServerConfig, settings: OAuth2Settings): Promise<string> {
    const { store, box } = this.deps;
    const at = this.deps.now().toISOString();
    if (settings.flow === 'app') {
      try {
        const tokens = await appOnlyToken(settings, this.deps.now, this.clientCertificate(settings));
        const row = store.getSignIn(config.name);
        if (!row || row.needsSignIn) store.saveSignIn(config.name, { account: config.delivery.smartHost?.user ?? '', refreshTokenSealed: null, accessExpiresAt: tokens.expiresAt.toISOString(), at });
        else store.recordRefresh(config.name, { refreshTokenSealed: null, accessExpiresAt: tokens.expiresAt.toISOString(), at, signedInAt: row.signedInAt });
        return this.remember(config, tokens, null);
      } catch (err) {
        throw this.refused(config, err);
      }
    }
    const row = store.getSignIn(config.name);
    if (!row?.refreshTokenSealed) throw this.refused(config, new OAuthError('no refresh token was issued at sign-in (offline_access missing?)', 'invalid_grant', true));
    let refreshToken: string;
    try {
      refreshToken = box.open(row.refreshTokenSealed);
    } catch (err) {
      const reason = err instanceof SecretBoxError ? `the stored refresh token ${err.message}` : (err as Error).message;
      throw this.refused(config, new OAuthError(reason, 'invalid_grant', true));
    }
    try {
      const tokens = await refreshAccessToken(settings, refreshToken, this.deps.now);
      store.recordRefresh(config.name, {
        refreshTokenSealed: tokens.refreshToken && tokens.refreshToken !== refreshToken ? box.seal(tokens.refreshToken) : null,
        accessExpiresAt: tokens.expiresAt.toISOString(), at, signedInAt: row.signedInAt,
      });
      return this.remember(config, tokens, row.signedInAt);
    } catch (err) {
      throw this.refused(config, err);
    }
  }

  /** Record a failed token request; a permanent refusal flags "sign-in needed" and says so once. */
  private refused(config: VirtualServerConfig, err: unknown): Error {
    const permanent = err instanceof OAuthError && err.permanent;
    const message = (err as Error).message;
    this.cache.delete(this.key(config.name));
    const before = this.deps.store.getSignIn(config.name);
    if (before) this.deps.store.recordSignInError(config.name, message, permanent);
    if (permanent && !before?.needsSignIn) {
      this.deps.bus.emit({ type: 'smarthost-sign-in', at: this.deps.now().toISOString(), server: config.name, outcome: 'sign-in-needed', account: config.delivery.smartHost?.user ?? '', message: `${message}; mail for other domains waits in the queue until someone signs in again` });
    }
    return permanent ? new SignInNeeded(message) : new TokenUnavailable(message);
  }

  /**
   * Run the server's sign-in to the end. onUrl gets the URL to open (browser flow), onPrompt the
   * code to enter (device flow). Stores the sealed refresh token and makes waiting mail due now.
   */
  async signIn(serverName: string, options: { onUrl(url: string): void; onPrompt(prompt: DevicePrompt): void; signal?: AbortSignal }): Promise<SmartHostSignInStatus> {
    const config = this.configFor(serverName);
    const { host, settings, account } = oauthOf(config.delivery.smartHost, config.name);
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(SIGN_IN_TIMEOUT_MS)]) : AbortSignal.timeout(SIGN_IN_TIMEOUT_MS);
    const now = this.deps.now;
    const tokens = settings.flow === 'app' ? await appOnlyToken(settings, now, this.clientCertificate(settings))
      : settings.flow === 'device' ? await signInWithDeviceCode(settings, { onPrompt: options.onPrompt, signal, now })
        : await signInWithBrowser(settings, { loginHint: host.user, onUrl: options.onUrl, signal, now });
    const at = now().toISOString();
    this.deps.store.saveSignIn(config.name, { account, refreshTokenSealed: tokens.refreshToken ? this.deps.box.seal(tokens.refreshToken) : null, accessExpiresAt: tokens.expiresAt.toISOString(), at });
    this.remember(config, tokens, settings.flow === 'app' ? null : at);
    const waiting = this.deps.store.retryRemoteNow(serverOfKey(config.name));
    const note = settings.flow !== 'app' && !tokens.refreshToken ? ' (no refresh token was issued: another sign-in will be needed when this token expires)' : '';
    this.deps.bus.emit({ type: 'smarthost-sign-in', at, server: config.name, outcome: 'signed-in', account, message: `signed in; ${waiting} waiting recipient(s) will be tried now${note}` });
    return this.status(config.name);
  }

  /** For the AdminApi: start a sign-in in the background; resolve once there is something to show. */
  async startSignIn(serverName: string): Promise<SmartHostSignInStatus> {
    const config = this.configFor(serverName);
    oauthOf(config.delivery.smartHost, config.name);
    const key = this.key(config.name);
    this.pending.get(key)?.abort.abort();
    const entry = { abort: new AbortController(), prompt: null as Pending | null, error: null as string | null };
    this.pending.set(key, entry);
    await new Promise<void>((ready) => {
      this.signIn(config.name, {
        signal: entry.abort.signal,
        onUrl: (url) => { entry.prompt = { flow: 'browser', url, userCode: null, verificationUri: null, expiresAt: null }; ready(); },
        onPrompt: (p) => { entry.prompt = { flow: 'device', url: p.verificationUriComplete, userCode: p.userCode, verificationUri: p.verificationUri, expiresAt: p.expiresAt }; ready(); },
      }).then(() => {
        if (this.pending.get(key) === entry) this.pending.delete(key);
        ready();
      }, (err: unknown) => {
        entry.prompt = null;
        entry.error = (err as Error).message;
        ready();
      });
    });
    return this.status(config.name);
  }

  /**
   * Forget the sign-in: the refresh token is revoked at the provider where it offers RFC 7009
   * (Google, custom providers with a revocation endpoint; Microsoft has none) and deleted here.
   */
  async signOut(serverName: string): Promise<SmartHostSignInStatus & { revoked: string }> {
    const config = this.configFor(serverName);
    const key = this.key(config.name);
    this.pending.get(key)?.abort.abort();
    this.pending.delete(key);
    this.cache.delete(key);
    const row = this.deps.store.getSignIn(config.name);
    let revoked = 'no refresh token was stored';
    const settings = config.delivery.smartHost?.oauth2;
    if (row?.refreshTokenSealed && settings) {
      try {
        await revokeRefreshToken(settings, this.deps.box.open(row.refreshTokenSealed));
        revoked = 'the provider revoked the refresh token';
      } catch (err) {
        revoked = err instanceof OAuthError && err.error === 'unsupported' ? 'the provider offers no revocation; remove the app\'s consent at the provider to end the grant there' : `revocation at the provider failed (${(err as Error).message})`;
      }
    }
    if (this.deps.store.removeSignIn(config.name)) {
      this.deps.bus.emit({ type: 'smarthost-sign-in', at: this.deps.now().toISOString(), server: config.name, outcome: 'signed-out', account: config.delivery.smartHost?.user ?? '', message: `signed out; the stored refresh token was deleted (${revoked})` });
    }
    return { ...this.status(config.name), revoked };
  }

  status(serverName: string): SmartHostSignInStatus {
    const config = this.configFor(serverName);
    const { settings } = oauthOf(config.delivery.smartHost, config.name);
    const row = this.deps.store.getSignIn(config.name);
    const pending = this.pending.get(this.key(config.name));
    return {
      server: config.name, provider: settings.provider, flow: settings.flow, account: row?.account ?? null,
      signedIn: Boolean(row) && !row?.needsSignIn, needsSignIn: row?.needsSignIn ?? false,
      signedInAt: row?.signedInAt ?? null, lastRefreshAt: row?.lastRefreshAt ?? null, accessTokenExpiresAt: row?.accessExpiresAt ?? null,
      lastError: pending?.error ?? row?.lastError ?? null, secretStore: this.deps.box.kind, pending: pending?.prompt ?? null,
    };
  }

  stop(): void {
    for (const entry of this.pending.values()) entry.abort.abort();
    this.pending.clear();
  }
}

/**
 * A route seen as a server of its own for sign-in and delivery: named by its sign-in key
 * ("Server::Route"), with the route's transport as its smart host and no direct-first attempt.
 */
export function routeView(server: VirtualServerConfig, route: DeliveryRoute): VirtualServerConfig {
  return { ...server, name: signInKey(server.name, route.name), delivery: { ...server.delivery, smartHost: route.smartHost, attemptDirectFirst: false, routes: [] } };
}

/** The server a sign-in key belongs to ("Server::Route" → "Server"). */
export function serverOfKey(key: string): string {
  const at = key.lastIndexOf(ROUTE_SEPARATOR);
  return at < 0 ? key : key.slice(0, at);
}
