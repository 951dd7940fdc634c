// Relaydesk's one application object: opens the store, applies the secure defaults on first
// start, and runs the engine, spool and local delivery. The CLI, the headless console and the
// Electron main process all drive this same object.
import os from 'node:os';
import path from 'node:path';
import { AdminError } from './contract/errors';
import { explainUpstreamReply } from './contract/upstream-replies';
import type { ActiveWarning } from './contract/admin-api';
import { newServerDefaults } from './contract/server-settings';
import {
  DEFAULT_DELIVERY, DEFAULT_SERVER_NAME, DEFAULT_SUBMISSION_PORT, hostnameSchema, ROUTE_SEPARATOR,
  type VirtualServerConfig,
} from './contract/settings';
import { createAuthenticator } from './auth/authenticator';
import { hashPassword, passwordProblem } from './auth/passwords';
import { cramMd5Contexts } from './auth/cram-md5';
import { AuthThrottle, DEFAULT_THROTTLE, type ThrottleOptions } from './auth/throttle';
import { KnownLoginAddresses } from './auth/known-addresses';
import { DiskWatch } from './spool/disk-watch';
import { Retention } from './spool/retention';
import { WarningSet } from './log/warnings';
import { createReverseResolver, type ReverseResolver } from './dns/reverse-resolver';
import { Engine } from './engine/engine';
import { RateCounters } from './engine/rate-counters';
import { LocalDelivery } from './delivery/local-delivery';
import { RemoteDelivery } from './delivery/remote-delivery';
import { PickupFolder } from './delivery/pickup';
import { CounterSet } from './log/counters';
import { EventBus } from './log/event-bus';
import { EventLog } from './log/event-log';
import { Spool } from './spool/spool';
import { Checkpointer } from './store/checkpointer';
import { type NewCertificate, openStore, STORE_FILE, type Store } from './store/store';
import { RECENT_REPLIES } from './store/queue-tables';
import { inspectCertificate } from './tls/certificates';
import { loadCertificateTools } from './tls/load-certificate-tools';
import { CertificateService } from './tls/certificate-service';
import { certificateWarnings } from './tls/certificate-warnings';
import { fileKeySecretBox, type SecretBox } from './oauth/secret-box';
import { newQueueId } from './random-ids';
import { routeView, SIGN_IN_CHECK_MS, SmartHostTokens } from './oauth/smart-host-tokens';

export interface AppOptions {
  dataDir: string;
  now?: () => Date;
  /** Port of the server made on first start; tests pass 0 (any free port). */
  firstStartPort?: number;
  throttle?: Partial<ThrottleOptions>;
  /** Where OAuth2 refresh tokens are sealed; default a key file in the data folder (the desktop app passes the OS keychain). */
  secretBox?: SecretBox;
  /** How often the free space of the data folder is measured (tests shorten it). */
  diskCheckMs?: number;
  /** How often finished messages, kept copies and old records are swept. */
  retentionSweepMs?: number;
  /** How often OAuth2 sign-ins are checked and refreshed ahead of expiry. */
  signInRefreshMs?: number;
  /** The CLI's app: the AdminApi over the store, no listener (a running serve applies the changes). */
  offline?: boolean;
  /** How often a server that cannot listen tries again (tests shorten it). */
  bindRetryMs?: number;
}

const INITIALIZED_KEY = 'initialized';
export const ENGINE_STATUS_KEY = 'engine.status';
const EXPIRY_CHECK_MS = 12 * 60 * 60_000;
const RETENTION_SWEEP_MS = 10 * 60_000;
const STORE_WATCH_MS = 500;
const MIB = 1024 * 1024;

export class App {
  readonly store: Store;
  readonly bus = new EventBus();
  readonly engine: Engine;
  readonly spool: Spool;
  readonly localDelivery: LocalDelivery;
  readonly remoteDelivery: RemoteDelivery;
  readonly pickup: PickupFolder;
  readonly eventLog: EventLog;
  readonly counters: CounterSet;
  readonly certificates: CertificateService;
  readonly smartHostTokens: SmartHostTokens;
  readonly warnings: WarningSet;
  readonly diskWatch: DiskWatch;
  readonly retention: Retention;
  private readonly now: () => Date;
  private expiryTimer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private signInTimer: NodeJS.Timeout | null = null;
  private storeTimer: NodeJS.Timeout | null = null;
  private checkpointer: Checkpointer | null = null;
  private readonly resolvers = new Map<string, ReverseResolver>();

  constructor(private readonly options: AppOptions) {
    this.now = options.now ?? (() => new Date());
    this.store = openStore({ dataDir: options.dataDir, now: this.now, quickCheck: !options.offline });
    this.spool = new Spool({ dir: path.join(options.dataDir, 'spool'), store: this.store, now: this.now, newId: newQueueId });
    const authenticator = createAuthenticator({ findUser: (name) => this.store.findUser(name), now: () => this.now().getTime() });
    this.warnings = new WarningSet(this.bus, this.now);
    this.eventLog = new EventLog(this.store, this.bus, this.now);
    this.diskWatch = new DiskWatch({
      dir: options.dataDir,
      settings: () => this.eventLog.settings(),
      onChange: (low, space, floor) => {
        const free = `${(space.freeBytes / MIB).toFixed(0)} MiB free of ${(space.totalBytes / MIB).toFixed(0)} MiB`;
        if (low) {
          this.warnings.raise('disk-low', `Disk space low in ${options.dataDir} (${free}, below the floor of ${(floor / MIB).toFixed(0)} MiB): new mail is refused with 452 4.3.1 until space is back.`,
            'Free space on that disk (old files, the drop or badmail folder), or lower the floor under Queues → Retention and disk; acceptance resumes by itself.');
        } else {
          this.warnings.clear('disk-low', `Disk space is back in ${options.dataDir} (${free}): accepting mail again.`);
        }
      },
    });
    this.retention = new Retention({
      store: this.store, queueDir: this.spool.queueDir, keptDir: this.spool.keptDir, now: this.now, settings: () => this.eventLog.settings(),
    });
    this.engine = new Engine({
      store: this.store,
      bindRetryMs: options.bindRetryMs,
      bus: this.bus,
      spool: this.spool,
      authenticator,
      throttle: new AuthThrottle({ ...DEFAULT_THROTTLE, ...options.throttle }, () => this.now().getTime()),
      knownAddresses: new KnownLoginAddresses(this.store, () => this.now().getTime()),
      storageLow: () => this.diskWatch.low,
      storageFailed: () => void this.diskWatch.check(),
      rates: new RateCounters(() => this.now().getTime()),
      published: (status) => {
        // What this process observes, for `relaydesk server list` in another process (not the saved setting).
        try {
          this.store.setMeta(ENGINE_STATUS_KEY, JSON.stringify({ pid: process.pid, at: this.now().toISOString(), servers: status }));
        } catch { /* a full disk must not stop the engine; the CLI then says it cannot tell */ }
      },
      resolverFor: (servers) => this.resolverFor(servers),
      now: this.now,
      offline: options.offline,
    });
    this.localDelivery = new LocalDelivery({
      store: this.store,
      bus: this.bus,
      now: this.now,
      dropFolderFor: (serverName) => this.dropFolderFor(serverName),
      finished: (message) => this.finishMessage(message.id),
    });
    this.smartHostTokens = new SmartHostTokens({ store: this.store, bus: this.bus, now: this.now, box: options.secretBox ?? fileKeySecretBox(options.dataDir) });
    this.remoteDelivery = new RemoteDelivery({
      tokens: this.smartHostTokens,
      store: this.store,
      bus: this.bus,
      spool: this.spool,
      now: this.now,
      serverConfig: (name) => this.store.listServers().find((s) => s.name === name) ?? null,
      routeOf: (domain) => this.routeOf(domain),
      forwardTarget: (domain) => this.store.listAcceptedDomains().find((d) => d.action === 'forward' && d.domain.toLowerCase() === domain.toLowerCase())?.forwardTo ?? null,
      badmailFolder: (name) => this.store.listServers().find((s) => s.name === name)?.messages.badmailFolder ?? path.join(this.options.dataDir, 'badmail'),
      finished: (message) => this.finishMessage(message.id),
    });
    this.pickup = new PickupFolder({
      spool: this.spool, bus: this.bus, now: this.now,
      servers: () => this.store.listServers(),
      pickupFolderOf: (server) => (server.delivery.pickupFolder === '' ? null : server.delivery.pickupFolder ?? path.join(this.options.dataDir, 'pickup')),
      badmailFolderOf: (server) => server.messages.badmailFolder ?? path.join(this.options.dataDir, 'badmail'),
      routeOf: (domain) => this.routeOf(domain),
    });
    this.counters = new CounterSet(this.bus, this.now);
    this.certificates = new CertificateService(this.store, this.now);
    this.eventLog.onSettings(() => {
      void this.diskWatch.check();
      void this.sweepRetention();
    });
    this.spool.onIndexFailed((err, count) => {
      if (!err) {
        this.warnings.clear('queue-index', `The queue index can be written again: ${count} accepted message(s) that waited in the spool are in the queue.`);
        return;
      }
      this.warnings.raise('queue-index', `${count} accepted message(s) could not be added to the queue index (${err.message}). They are safe in the spool; delivery of new mail waits until they are added.`,
        'Check free space and permissions of the data folder; Relaydesk tries again every second and at the next start.');
      void this.diskWatch.check();
    });
    this.spool.onCommitted((messages) => {
      if (messages.some((m) => m.recipients.some((r) => r.route === 'local'))) this.localDelivery.wake();
      if (messages.some((m) => m.recipients.some((r) => r.route === 'remote'))) this.remoteDelivery.wake();
    });
  }

  /** A delivery worker recorded an outcome: if the message is now done, its body leaves the spool. */
  private async finishMessage(id: string): Promise<void> {
    const message = this.store.getMessage(id);
    if (!message || message.state !== 'done') return;
    try {
      await this.retention.finish(message);
    } catch (err) {
      // The sweep tries again; the admin sees why it did not go.
      this.bus.emit({ type: 'warning', at: this.now().toISOString(), message: `could not remove the delivered message ${id} from the spool: ${(err as Error).message}` });
    }
  }

  /** Finish what a crash interrupted, drop expired kept copies, prune old queue records. */
  async sweepRetention(): Promise<void> {
    try {
      await this.retention.sweep();
    } catch (err) {
      this.bus.emit({ type: 'warning', at: this.now().toISOString(), message: `queue retention sweep failed: ${(err as Error).message}` });
    }
  }

  /**
   * What needs the admin now, as observed: the disk, each smart host sign-in that is lost or
   * failing, mail that failed in the last 24 hours, and what is wrong with each running server's
   * certificate.
   */
  async activeWarnings(): Promise<ActiveWarning[]> {
    const warnings = [...this.signInWarnings()];
    const failed = this.store.countFailedSince(new Date(this.now().getTime() - 86_400_000).toISOString());
    if (failed > 0) {
      warnings.push({ id: 'delivery-failed', link: 'queues?status=failed', since: this.now().toISOString(),
        message: `${failed} message(s) could not be delivered in the last 24 hours; their senders were sent a report.`, action: 'See Queues → Failed for the replies.' });
    }
    // Upstream replies the admin must act on (SMTP AUTH switched off, Send As denied, throttling…), in plain words.
    const explained = new Map<string, { problem: string; fix: string; waiting: number; failed: number }>();
    for (const row of this.store.recentRemoteReplies(new Date(this.now().getTime() - 86_400_000).toISOString())) {
      const explanation = explainUpstreamReply(row.reply);
      if (!explanation) continue;
      const entry = explained.get(explanation.id) ?? { problem: explanation.problem, fix: explanation.fix, waiting: 0, failed: 0 };
      if (row.waiting) entry.waiting += row.recipients;
      else entry.failed += row.recipients;
      explained.set(explanation.id, entry);
    }
    for (const [id, e] of explained) {
      const many = (n: number) => (n >= RECENT_REPLIES ? `${RECENT_REPLIES}+` : String(n));
      const counts = [e.waiting ? `${many(e.waiting)} recipient(s) waiting` : '', e.failed ? `${many(e.failed)} failed in the last 24 hours` : ''].filter(Boolean).join(', ');
      warnings.push({ id: `upstream:${id}`, link: e.failed && !e.waiting ? 'queues?status=failed' : 'queues?status=retrying', since: this.now().toISOString(), message: `${e.problem} (${counts})`, action: e.fix });
    }
    for (const held of this.remoteDelivery.heldBackServers()) {
      warnings.push({ id: `held-back:${held.server}`, server: held.server, link: 'queues?status=queued', since: this.now().toISOString(),
        message: `${held.server}: mail for other domains is held back by its provider's caps (messages a minute, recipients a day) until ${held.until}; it waits in the queue.`,
        action: 'Nothing is lost. To send faster, raise the caps on Properties → Delivery only if the provider allows it, or spread the mail over more mailboxes.' });
    }
    const running = new Set(this.engine.status().filter((s) => s.running).map((s) => s.name));
    const summaries = await this.certificates.list();
    for (const server of this.store.listServers()) {
      if (!running.has(server.name) || !server.certificate) continue;
      const summary = summaries.find((c) => c.name === server.certificate);
      const stored = this.store.findCertificate(server.certificate);
      if (!summary || !stored) continue;
      for (const [i, message] of certificateWarnings(server, { ...summary, certPem: stored.certPem, chainPem: stored.chainPem }, this.now()).entries()) {
        warnings.push({ id: `certificate:${server.name}:${i}`, server: server.name, certificate: summary.name, link: 'certificates', message, action: '', since: this.now().toISOString() });
      }
    }
    return warnings;
  }

  /** The disk watch's conditions and each smart host sign-in that is lost or failing (sync: serve prints them at start). */
  signInWarnings(): ActiveWarning[] {
    const warnings = this.warnings.list();
    const views = this.store.listServers().flatMap((s) => [s, ...s.delivery.routes.map((route) => routeView(s, route))]);
    for (const server of views) {
      const host = server.delivery.smartHost;
      if (host?.authentication !== 'oauth2' || !host.oauth2) continue;
      const row = this.store.getSignIn(server.name);
      const id = `sign-in:${server.name}`;
      const since = row?.lastRefreshAt ?? row?.signedInAt ?? this.now().toISOString();
      // A route's sign-in is named "Server::Route": say it in words, with the command that signs it in.
      const at = server.name.lastIndexOf(ROUTE_SEPARATOR);
      const owner = at < 0 ? server.name : server.name.slice(0, at);
      const route = at < 0 ? null : server.name.slice(at + ROUTE_SEPARATOR.length);
      const label = route ? `${owner} (route ${route})` : owner;
      const place = route ? `Properties → Delivery → Routes → ${route}` : 'Properties → Delivery → Outbound authentication';
      const command = `relaydesk smarthost signin "${owner}"${route ? ` --route "${route}"` : ''}`;
      if (host.oauth2.flow !== 'app' && !row) {
        warnings.push({ id, server: owner, since, message: `${label}: the smart host's OAuth2 sign-in has not been done; mail for other domains waits in the queue.`, action: `Sign in under ${place} (or ${command}).` });
      } else if (row?.needsSignIn) {
        warnings.push({ id, server: owner, since, message: `${label}: the smart host sign-in of ${row.account} is no longer valid (${row.lastError ?? 'refresh refused'}); mail for other domains waits in the queue.`, action: `Sign in again under ${place} (or ${command}).` });
      } else if (row?.lastError) {
        warnings.push({ id, server: owner, since, message: `${label}: the last token refresh for ${row.account} failed (${row.lastError}); it is tried again.`, action: 'Check that this machine reaches the provider; nothing to do if the next refresh succeeds.' });
      }
    }
    return warnings;
  }

  /** Accepted domains delivered to the drop folder are local; everything else leaves by SMTP. */
  routeOf(domain: string): 'local' | 'remote' {
    const lower = domain.toLowerCase();
    return this.store.listAcceptedDomains().some((d) => d.action === 'drop' && d.domain.toLowerCase() === lower) ? 'local' : 'remote';
  }

  /** One resolver (and cache) per distinct list of external DNS servers. */
  resolverFor(servers: readonly string[]): ReverseResolver {
    const key = servers.join(',');
    let resolver = this.resolvers.get(key);
    if (!resolver) {
      resolver = createReverseResolver({ servers });
      this.resolvers.set(key, resolver);
    }
    return resolver;
  }

  /** The injected clock (tests and the simulator use the app's notion of now). */
  clock(): Date {
    return this.now();
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  dropFolderFor(serverName: string): string {
    const server = this.store.listServers().find((s) => s.name === serverName);
    return server?.delivery.dropFolder ?? path.join(this.options.dataDir, 'drop');
  }

  /**
   * First start (or `relaydesk init`) only: the secure default server of SPEC §1, on 127.0.0.1
   * and port 2525 unless told otherwise. Returns true when it was created now.
   */
  async ensureDefaults(listen: { bindAddress?: VirtualServerConfig['bindAddress']; port?: number } = {}): Promise<boolean> {
    if (this.store.getMeta(INITIALIZED_KEY)) return false;
    const fqdn = defaultFqdn();
    const certificate = await this.selfSignedFor(fqdn);
    const server: VirtualServerConfig = {
      ...newServerDefaults({ name: DEFAULT_SERVER_NAME, fqdn, certificate: certificate.name }),
      bindAddress: listen.bindAddress ?? '127.0.0.1',
      port: listen.port ?? this.options.firstStartPort ?? DEFAULT_SUBMISSION_PORT,
      delivery: { ...DEFAULT_DELIVERY, pickupFolder: null },
    };
    this.store.transaction(() => {
      if (this.store.getMeta(INITIALIZED_KEY)) return;
      if (!this.store.findCertificate(certificate.name)) this.store.addCertificate(certificate);
      if (this.store.listServers().length === 0) this.store.createServer(server);
      this.store.setMeta(INITIALIZED_KEY, this.now().toISOString());
    });
    return true;
  }

  /**
   * The settings of a new server (`relaydesk server add`, partial config files): the secure
   * defaults, with the FQDN and certificate of the first server, or on a folder without one this
   * machine's name and a new self-signed certificate (and no default server is added later).
   */
  async newServerConfig(name: string): Promise<VirtualServerConfig> {
    const first = this.store.listServers()[0];
    if (first) return newServerDefaults({ name, fqdn: first.fqdn, certificate: first.certificate });
    const fqdn = defaultFqdn();
    const certificate = await this.selfSignedFor(fqdn);
    this.store.transaction(() => {
      if (!this.store.findCertificate(certificate.name)) this.store.addCertificate(certificate);
      if (!this.store.getMeta(INITIALIZED_KEY)) this.store.setMeta(INITIALIZED_KEY, this.now().toISOString());
    });
    return newServerDefaults({ name, fqdn, certificate: certificate.name });
  }

  /** A self-signed certificate for this machine's name (the stored one when it exists). */
  async selfSignedFor(fqdn: string): Promise<NewCertificate> {
    const name = `${fqdn} (self-signed)`;
    const stored = this.store.findCertificate(name);
    if (stored) return stored;
    const material = await (await loadCertificateTools()).createSelfSignedCertificate({ commonName: fqdn, altNames: ['localhost', '127.0.0.1', '::1'], now: this.now() });
    return { name, certPem: material.certPem, chainPem: '', keyPem: material.keyPem, ...inspectCertificate(material.certPem) };
  }

  /** Recover the spool, start every server the store says should run, and follow store changes. */
  async start(): Promise<{ orphansRemoved: number; reindexed: number; unreadable: string[] }> {
    const { removed: orphansRemoved, reindexed, unreadable } = this.spool.recover();
    this.checkpointer = Checkpointer.start(path.join(this.options.dataDir, STORE_FILE), {
      setAutoCheckpoint: (pages) => { if (this.store.isOpen()) this.store.setAutoCheckpoint(pages); },
      failed: (message) => this.bus.emit({ type: 'warning', at: this.now().toISOString(), message: `the store's background checkpoint stopped (${message}); the server checkpoints by itself again` }),
    });
    this.eventLog.start();
    await this.sweepRetention();
    this.retentionTimer = setInterval(() => void this.sweepRetention(), this.options.retentionSweepMs ?? RETENTION_SWEEP_MS);
    this.retentionTimer.unref();
    await this.diskWatch.start(this.options.diskCheckMs);
    // Sign-ins are refreshed ahead of expiry whether or not mail flows (an idle server keeps them).
    const refreshSignIns = () => void this.smartHostTokens.refreshAhead(this.store.listServers()).catch(() => undefined);
    this.signInTimer = setInterval(refreshSignIns, this.options.signInRefreshMs ?? SIGN_IN_CHECK_MS);
    this.signInTimer.unref();
    refreshSignIns();
    await this.engine.reconcile();
    this.watchStore();
    this.localDelivery.wake();
    this.remoteDelivery.start();
    this.pickup.start();
    this.warnAboutExpiry();
    this.expiryTimer = setInterval(() => this.warnAboutExpiry(), EXPIRY_CHECK_MS);
    this.expiryTimer.unref();
    return { orphansRemoved, reindexed, unreadable };
  }

  /**
   * Changes made by another process (the CLI while `serve` runs) are noticed through SQLite's
   * PRAGMA data_version and handed to the engine within a second.
   */
  private watchStore(): void {
    let seen = this.store.dataVersion();
    this.storeTimer = setInterval(() => {
      const version = this.store.dataVersion();
      if (version === seen) return;
      seen = version;
      void this.engine.reconcile();
    }, STORE_WATCH_MS);
    this.storeTimer.unref();
  }

  /** Graceful: stop accepting, let in-flight DATA finish (up to graceMs), flush, close the store. */
  /** Certificates in use that expire within 30 or 7 days, or have, become log warnings. */
  warnAboutExpiry(): string[] {
    const warnings = this.certificates.expiryWarnings();
    for (const message of warnings) this.bus.emit({ type: 'warning', at: this.now().toISOString(), message });
    return warnings;
  }

  async stop(graceMs?: number): Promise<void> {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.signInTimer) clearInterval(this.signInTimer);
    if (this.storeTimer) clearInterval(this.storeTimer);
    await this.diskWatch.stop();
    await this.engine.shutdown(graceMs);
    try {
      this.store.setMeta(ENGINE_STATUS_KEY, JSON.stringify({ pid: process.pid, at: this.now().toISOString(), servers: [], stopped: true }));
    } catch { /* see published() */ }
    await this.spool.drain();
    await this.localDelivery.stop();
    this.smartHostTokens.stop();
    await this.remoteDelivery.stop();
    await this.pickup.stop();
    await this.spool.drain(); // the pickup folder's last messages
    await this.spool.close();
    this.eventLog.stop();
    await this.checkpointer?.stop();
    this.checkpointer = null;
    this.store.close();
  }

  // ── users (the CLI and the AdminApi share these) ────────────────────────────────────

  async addUser(name: string, password: string, options: { senders?: string[]; cramMd5?: boolean } = {}): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new AdminError('invalid', problem, 'password');
    const passwordHash = await hashPassword(password);
    this.store.addUser({ name, passwordHash, cramSecret: options.cramMd5 ? cramMd5Contexts(password) : null, senders: options.senders ?? [] });
  }

  async setPassword(name: string, password: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new AdminError('invalid', problem, 'password');
    const user = this.store.findUser(name);
    if (!user) throw new AdminError('not-found', `no user named "${name}"`, 'name');
    // The CRAM-MD5 contexts derive from the password, so they follow a password change.
    this.store.updateUser(name, { passwordHash: await hashPassword(password), ...(user.cramSecret ? { cramSecret: cramMd5Contexts(password) } : {}) });
  }
}

/** This machine's name when it is a valid host name (the default FQDN of a server), or localhost. */
export function defaultFqdn(): string {
  const parsed = hostnameSchema.safeParse(os.hostname());
  return parsed.success ? parsed.data : 'localhost';
}
