// The configuration and queue store: one SQLite file (WAL, synchronous=FULL), one connection,
// and the only module that writes to it. Every write is validated first; a refused write
// changes nothing. SQL lives here and nowhere else.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import {
  type AcceptedDomain, acceptedDomainSchema, type AddressRule, addressRuleSchema, type AccessSettings, accessSettingsSchema,
  DEFAULT_ACCESS, DEFAULT_DELIVERY, DEFAULT_MESSAGES, deliverySettingsSchema, type ServerState, serverStateSchema,
  messageSettingsSchema, signInIdentity, type VirtualServerConfig, type VirtualServerInput, virtualServerSchema,
} from '../contract/settings';
import {
  CONFIG_FORMAT, CONFIG_VERSION, type ConfigDocument, configDocumentSchema, findListenerConflict, senderPatternSchema, userNameSchema,
} from '../contract/config';
import { AdminError, parseOrThrow } from '../contract/errors';
import type { SessionEvent } from '../contract/events';
import { type LogView, matchesLogView } from '../contract/log-view';
import { MIGRATIONS } from './migrations';
import { cramMd5Contexts, isCramMd5Contexts } from '../auth/cram-md5';
import { fileKeySecretBox, type SecretBox } from '../oauth/secret-box';
import { openSealedSecrets, sealSecrets } from './sealed-secrets';

export interface EventQuery extends LogView {
  /** Newest first: events with an id below this one; oldest first: above afterId. */
  beforeId?: number | undefined; afterId?: number | undefined; limit: number; oldestFirst?: boolean | undefined;
}

export const STORE_FILE = 'relaydesk.db';

export interface StoredUser {
  name: string;
  passwordHash: string;
  cramSecret: string | null;
  enabled: boolean;
  senders: string[];
  createdAt: string;
  /** Sending limits (null = none): messages per hour, recipients per day. */
  perHour: number | null;
  recipientsPerDay: number | null;
}

export interface StoredCertificate {
  id: number;
  name: string;
  certPem: string;
  chainPem: string;
  keyPem: string;
  fingerprintSha256: string;
  subject: string;
  notBefore: string;
  notAfter: string;
}

export type NewCertificate = Omit<StoredCertificate, 'id'>;

export interface QueuedRecipient { address: string; domain: string; route: 'local' | 'remote' }

export interface AcceptedMessage {
  id: string;
  serverName: string;
  receivedAt: string;
  mailFrom: string;
  size: number;
  clientAddress: string;
  authUser: string | null;
  spoolPath: string;
  /** Where the message starts in the spool file (after the envelope line). */
  bodyOffset: number;
  recipients: QueuedRecipient[];
}

/** Where a message's body is: in the spool (not finished yet), kept as a copy after delivery, or removed. */
export type MessageBody = 'spool' | 'kept' | 'removed';

export interface QueueEntry extends Omit<AcceptedMessage, 'recipients'> {
  state: 'queued' | 'done' | 'frozen';
  body: MessageBody;
  /** When the last recipient was delivered or failed (the history's clock); null while queued. */
  finishedAt: string | null;
  recipients: Array<QueuedRecipient & { state: 'queued' | 'delivered' | 'failed'; attempts: number; lastReply: string | null; nextAttemptAt: string | null; delayNotified: boolean }>;
}

/** A user's sending limit: a positive whole number, or null for none. */
const userLimitSchema = z.number().int().min(1, 'must be at least 1 (or off)').max(10_000_000).nullable();

export interface StoreOptions {
  /** Folder of the store; created (owner-only) when missing. */
  dataDir: string;
  now?: () => Date;
  /** Seals the smart host password and OAuth2 client secret at rest; default the data folder's key file. */
  box?: SecretBox;
}

interface ServerRow {
  id: number; name: string; bind_address: string; port: number; tls_port: number | null; fqdn: string;
  max_connections: number | null; connection_timeout_seconds: number; logging_enabled: number; state: string;
  access_json: string; messages_json: string; delivery_json: string; certificate_name: string | null; banner: string | null;
}

interface UserRow { name: string; password_hash: string; cram_secret: string | null; enabled: number; senders_json: string; created_at: string; messages_per_hour: number | null; recipients_per_day: number | null }

/** Open (and migrate) the store. A locked, corrupt or newer-version file gives a clear AdminError. */
export function openStore(options: StoreOptions): Store {
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(options.dataDir, STORE_FILE);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // macOS: fsync() does not reach the platter; F_FULLFSYNC does.
    if (process.platform === 'darwin') db.pragma('fullfsync = ON');
    db.pragma('quick_check');
  } catch (err) {
    throw new AdminError('unavailable', `cannot open the store ${file}: ${(err as Error).message}` +
      ((err as { code?: string }).code === 'SQLITE_BUSY' ? ' (another process holds it locked)' : ''));
  }
  try {
    fs.chmodSync(file, 0o600);
  } catch { /* not ours to change (e.g. a read-only mount); SQLite would have failed first */ }
  const store = new Store(db, options.now ?? (() => new Date()), options.box ?? fileKeySecretBox(options.dataDir));
  try {
    store.migrate();
    store.normalizeStoredSettings();
  } catch (err) {
    db.close();
    throw err instanceof AdminError ? err : new AdminError('unavailable', `cannot upgrade the store ${file}: ${(err as Error).message}`);
  }
  return store;
}

const patchSchema = virtualServerSchema.partial().extend({
  access: accessSettingsSchema.partial().optional(),
  messages: messageSettingsSchema.partial().optional(),
  delivery: deliverySettingsSchema.partial().optional(),
}).strict();
export type VirtualServerPatch = z.input<typeof patchSchema>;

export class Store {
  private serversCache: { dataVersion: number; writes: number; servers: readonly VirtualServerConfig[] } | null = null;
  /** Bumped by every write of servers or certificates made through this store. */
  private serverWrites = 0;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database, private readonly now: () => Date, private readonly box: SecretBox) {}

  /**
   * Stores from earlier versions: the smart host password and client secret were kept in clear
   * (sealed now, and the freed pages overwritten so the cleartext does not linger), and folders
   * could be relative to wherever the server started (made absolute against that same place).
   */
  normalizeStoredSettings(): void {
    const rows = this.db.prepare('SELECT id, delivery_json, messages_json FROM virtual_servers').all() as Array<{ id: number; delivery_json: string; messages_json: string }>;
    const update = this.db.prepare('UPDATE virtual_servers SET delivery_json = ?, messages_json = ? WHERE id = ?');
    const absolute = (value: unknown) => (typeof value === 'string' && value !== '' && !path.isAbsolute(value) ? path.resolve(value) : value);
    let changed = 0;
    this.db.pragma('secure_delete = ON');
    try {
      this.db.transaction(() => {
        for (const row of rows) {
          const delivery = JSON.parse(row.delivery_json) as Record<string, unknown>;
          const messages = JSON.parse(row.messages_json) as Record<string, unknown>;
          // Only keys that are there: an absent one takes today's default when read (pickupFolder: off).
          for (const key of ['dropFolder', 'pickupFolder'] as const) if (key in delivery) delivery[key] = absolute(delivery[key]);
          if ('badmailFolder' in messages) messages.badmailFolder = absolute(messages.badmailFolder);
          const deliveryJson = JSON.stringify(sealSecrets(delivery, this.box));
          const messagesJson = JSON.stringify(messages);
          if (deliveryJson !== row.delivery_json || messagesJson !== row.messages_json) {
            update.run(deliveryJson, messagesJson, row.id);
            changed++;
          }
        }
      })();
      if (changed > 0) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.pragma('secure_delete = OFF');
    }
  }

  /** Prepared once, reused: hot paths (queue index, log, user lookups) must not re-parse SQL. */
  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * A write whose durability comes from elsewhere (the spool file, fsync'ed with its folder) or
   * does not need a flush of its own (the log): committed with synchronous=NORMAL, so the main
   * thread does not wait for an fsync. Everything else stays synchronous=FULL.
   */
  private relaxedTransaction(work: () => void): void {
    this.db.pragma('synchronous = NORMAL');
    try {
      this.db.transaction(work)();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Move the WAL's content into the database file (tests read the file; backups want one file). */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Changes whenever another connection (another process) committed; cheap to poll. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  migrate(): void {
    const current = this.schemaVersion();
    const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
    if (current > latest) {
      throw new AdminError('unavailable', `the store has schema version ${current}, newer than this Relaydesk understands (${latest}); upgrade Relaydesk`);
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      this.db.transaction(() => {
        migration.up(this.db);
        this.db.pragma(`user_version = ${migration.version}`);
      })();
    }
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  getMeta(key: string): string | null {
    const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? row.value : null;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Run several writes as one transaction (all or nothing). */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  // ── virtual servers ────────────────────────────────────────────────────────────────────

  /**
   * Every virtual server, parsed. Delivery, the pickup folder and the engine ask often (on every
   * accepted message), and parsing 10,000 address rules costs tens of milliseconds, so the parsed
   * list is kept until this store writes a server or certificate, or another process commits
   * (data_version). The objects are frozen: callers copy before changing.
   */
  listServers(): readonly VirtualServerConfig[] {
    const dataVersion = this.dataVersion();
    const cached = this.serversCache;
    if (cached && cached.dataVersion === dataVersion && cached.writes === this.serverWrites) return cached.servers;
    const rows = this.db.prepare(`SELECT s.*, c.name AS certificate_name FROM virtual_servers s
      LEFT JOIN certificates c ON c.id = s.certificate_id ORDER BY s.id`).all() as ServerRow[];
    const servers = deepFreeze(rows.map((row) => this.serverFromRow(row)));
    this.serversCache = { dataVersion, writes: this.serverWrites, servers };
    return servers;
  }

  getServer(name: string): VirtualServerConfig {
    const row = this.db.prepare(`SELECT s.*, c.name AS certificate_name FROM virtual_servers s
      LEFT JOIN certificates c ON c.id = s.certificate_id WHERE s.name = ?`).get(name) as ServerRow | undefined;
    if (!row) throw new AdminError('not-found', `no virtual server named "${name}"`, 'name');
    return this.serverFromRow(row);
  }

  private serverFromRow(row: ServerRow): VirtualServerConfig {
    const rules = this.db.prepare('SELECT list, rule_json FROM address_rules WHERE server_id = ? ORDER BY position').all(row.id) as Array<{ list: string; rule_json: string }>;
    const parseRule = (json: string): AddressRule => addressRuleSchema.parse(JSON.parse(json));
    return {
      name: row.name,
      bindAddress: row.bind_address,
      port: row.port,
      tlsPort: row.tls_port,
      fqdn: row.fqdn,
      maxConnections: row.max_connections,
      connectionTimeoutSeconds: row.connection_timeout_seconds,
      loggingEnabled: row.logging_enabled === 1,
      state: serverStateSchema.parse(row.state),
      // Stored sections are merged over today's defaults, so a setting added later gets its default.
      access: accessSettingsSchema.parse({ ...DEFAULT_ACCESS, ...JSON.parse(row.access_json) as object }),
      messages: messageSettingsSchema.parse({ ...DEFAULT_MESSAGES, ...JSON.parse(row.messages_json) as object }),
      delivery: deliverySettingsSchema.parse({ ...DEFAULT_DELIVERY, ...openSealedSecrets(JSON.parse(row.delivery_json) as Record<string, unknown>, this.box) }),
      connectionRules: rules.filter((r) => r.list === 'connection').map((r) => parseRule(r.rule_json)),
      relayRules: rules.filter((r) => r.list === 'relay').map((r) => parseRule(r.rule_json)),
      certificate: row.certificate_name,
      banner: row.banner,
    };
  }

  createServer(input: VirtualServerInput): VirtualServerConfig {
    const server = parseOrThrow(virtualServerSchema, input);
    return this.db.transaction(() => {
      this.assertNoConflict(server, null);
      this.writeServer(server, null);
      return this.getServer(server.name);
    })();
  }

  /** Apply a partial change (sections merged field by field); validated as a whole before writing. */
  updateServer(name: string, patch: VirtualServerPatch): VirtualServerConfig {
    const change = parseOrThrow(patchSchema, patch);
    return this.db.transaction(() => {
      const current = this.getServer(name);
      const merged = parseOrThrow(virtualServerSchema, {
        ...current,
        ...change,
        access: { ...current.access, ...change.access },
        messages: { ...current.messages, ...change.messages },
        delivery: { ...current.delivery, ...change.delivery },
      });
      this.assertNoConflict(merged, name);
      this.writeServer(merged, name);
      this.dropStaleSignIn(current, merged);
      return this.getServer(merged.name);
    })();
  }

  /**
   * A stored OAuth2 sign-in belongs to one identity (provider, tenant, client, mailbox, smart
   * host: signInIdentity). When the settings name another, the old refresh token is deleted and
   * the server needs a new sign-in; without OAuth2 (or after a rename) the sign-in goes.
   */
  private dropStaleSignIn(before: VirtualServerConfig, after: VirtualServerConfig | null): void {
    const previous = signInIdentity(before.delivery.smartHost);
    if (previous === null || !this.getSignIn(before.name)) return;
    const next = after && after.name.toLowerCase() === before.name.toLowerCase() ? signInIdentity(after.delivery.smartHost) : null;
    if (next === previous) return;
    if (next === null || !after) {
      this.removeSignIn(before.name);
      return;
    }
    this.stmt(`UPDATE oauth_sign_ins SET account = ?, refresh_token_sealed = NULL, needs_sign_in = 1, access_expires_at = NULL, signed_in_at = ?,
      last_error = 'the OAuth2 settings changed (provider, tenant, client, mailbox or smart host): the old sign-in was deleted' WHERE server_name = ?`)
      .run(after.delivery.smartHost?.user ?? '', this.stamp(), before.name);
  }

  setServerState(name: string, state: ServerState): void {
    this.serverWrites++;
    const result = this.db.prepare('UPDATE virtual_servers SET state = ?, updated_at = ? WHERE name = ?').run(parseOrThrow(serverStateSchema, state, 'state'), this.stamp(), name);
    if (result.changes === 0) throw new AdminError('not-found', `no virtual server named "${name}"`, 'name');
  }

  deleteServer(name: string): void {
    this.serverWrites++;
    this.removeSignIn(name);
    const result = this.db.prepare('DELETE FROM virtual_servers WHERE name = ?').run(name);
    if (result.changes === 0) throw new AdminError('not-found', `no virtual server named "${name}"`, 'name');
  }

  private assertNoConflict(server: VirtualServerConfig, previousName: string | null): void {
    const access = server.access;
    if (access.allowLegacyTls && (access.basicAuth || access.cramMd5)) {
      throw new AdminError('invalid', 'old TLS (1.0/1.1) is only for a server nobody signs in to: create one with the New virtual server wizard\'s "For devices that cannot sign in" (or relaydesk server add), and keep this one strong', 'access.allowLegacyTls');
    }
    const others = this.listServers().filter((s) => s.name.toLowerCase() !== (previousName ?? '').toLowerCase());
    if (others.some((s) => s.name.toLowerCase() === server.name.toLowerCase())) {
      throw new AdminError('conflict', `a virtual server named "${server.name}" already exists`, 'name');
    }
    const clash = findListenerConflict(server, others);
    if (clash) throw new AdminError('conflict', clash, 'port');
    if (server.certificate !== null) this.certificateId(server.certificate);
    for (const name of server.access.sniCertificates) {
      if (!this.findCertificate(name)) throw new AdminError('not-found', `no certificate named "${name}"`, 'access.sniCertificates');
    }
  }

  private certificateId(name: string): number {
    const row = this.db.prepare('SELECT id FROM certificates WHERE name = ?').get(name) as { id: number } | undefined;
    if (!row) throw new AdminError('not-found', `no certificate named "${name}"`, 'certificate');
    return row.id;
  }

  private writeServer(server: VirtualServerConfig, previousName: string | null): void {
    this.serverWrites++;
    const stamp = this.stamp();
    const values = {
      name: server.name, bind_address: server.bindAddress, port: server.port, tls_port: server.tlsPort, fqdn: server.fqdn,
      max_connections: server.maxConnections, connection_timeout_seconds: server.connectionTimeoutSeconds,
      logging_enabled: server.loggingEnabled ? 1 : 0, state: server.state,
      access_json: JSON.stringify(server.access), messages_json: JSON.stringify(server.messages), delivery_json: JSON.stringify(sealSecrets(server.delivery, this.box)),
      certificate_id: server.certificate === null ? null : this.certificateId(server.certificate), banner: server.banner, stamp,
    };
    let id: number;
    if (previousName === null) {
      id = Number(this.db.prepare(`INSERT INTO virtual_servers (name, bind_address, port, tls_port, fqdn, max_connections,
        connection_timeout_seconds, logging_enabled, state, access_json, messages_json, delivery_json, certificate_id, banner, created_at, updated_at)
        VALUES (@name, @bind_address, @port, @tls_port, @fqdn, @max_connections, @connection_timeout_seconds, @logging_enabled,
        @state, @access_json, @messages_json, @delivery_json, @certificate_id, @banner, @stamp, @stamp)`).run(values).lastInsertRowid);
    } else {
      const row = this.db.prepare('SELECT id FROM virtual_servers WHERE name = ?').get(previousName) as { id: number };
      id = row.id;
      this.db.prepare(`UPDATE virtual_servers SET name = @name, bind_address = @bind_address, port = @port, tls_port = @tls_port,
        fqdn = @fqdn, max_connections = @max_connections, connection_timeout_seconds = @connection_timeout_seconds,
        logging_enabled = @logging_enabled, state = @state, access_json = @access_json, messages_json = @messages_json,
        delivery_json = @delivery_json, certificate_id = @certificate_id, banner = @banner, updated_at = @stamp WHERE id = @id`).run({ ...values, id });
      this.db.prepare('DELETE FROM address_rules WHERE server_id = ?').run(id);
    }
    const insertRule = this.db.prepare('INSERT INTO address_rules (server_id, list, position, rule_json) VALUES (?, ?, ?, ?)');
    server.connectionRules.forEach((rule, i) => insertRule.run(id, 'connection', i, JSON.stringify(rule)));
    server.relayRules.forEach((rule, i) => insertRule.run(id, 'relay', i, JSON.stringify(rule)));
  }

  // ── accepted domains ───────────────────────────────────────────────────────────────────

  listAcceptedDomains(): AcceptedDomain[] {
    const rows = this.db.prepare('SELECT domain, action, forward_to FROM accepted_domains ORDER BY domain').all() as Array<{ domain: string; action: 'drop' | 'forward'; forward_to: string | null }>;
    return rows.map((r) => ({ domain: r.domain, action: r.action, forwardTo: r.forward_to }));
  }

  addAcceptedDomain(input: z.input<typeof acceptedDomainSchema>): AcceptedDomain {
    const domain = parseOrThrow(acceptedDomainSchema, input);
    const exists = this.db.prepare('SELECT 1 FROM accepted_domains WHERE domain = ?').get(domain.domain);
    if (exists) throw new AdminError('conflict', `domain ${domain.domain} is already accepted`, 'domain');
    this.db.prepare('INSERT INTO accepted_domains (domain, action, forward_to) VALUES (?, ?, ?)').run(domain.domain, domain.action, domain.forwardTo);
    return domain;
  }

  removeAcceptedDomain(domain: string): void {
    const result = this.db.prepare('DELETE FROM accepted_domains WHERE domain = ?').run(domain.trim());
    if (result.changes === 0) throw new AdminError('not-found', `domain ${domain} is not an accepted domain`, 'domain');
  }

  // ── users ──────────────────────────────────────────────────────────────────────────────

  listUsers(): StoredUser[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY name').all() as UserRow[]).map(userFromRow);
  }

  findUser(name: string): StoredUser | null {
    const row = this.stmt('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;
    return row ? userFromRow(row) : null;
  }

  addUser(user: { name: string; passwordHash: string; cramSecret: string | null; senders?: string[] }): void {
    const name = parseOrThrow(userNameSchema, user.name, 'name');
    const senders = parseOrThrow(z.array(senderPatternSchema), user.senders ?? [], 'senders');
    if (this.findUser(name)) throw new AdminError('conflict', `user "${name}" already exists`, 'name');
    const stamp = this.stamp();
    this.db.prepare(`INSERT INTO users (name, password_hash, cram_secret, enabled, senders_json, created_at, updated_at)
      VALUES (?, ?, ?, 1, ?, ?, ?)`).run(name, user.passwordHash, user.cramSecret, JSON.stringify(senders), stamp, stamp);
  }

  updateUser(name: string, change: { passwordHash?: string; cramSecret?: string | null; enabled?: boolean; senders?: string[]; perHour?: number | null; recipientsPerDay?: number | null }): void {
    const current = this.findUser(name);
    if (!current) throw new AdminError('not-found', `no user named "${name}"`, 'name');
    const senders = change.senders === undefined ? current.senders : parseOrThrow(z.array(senderPatternSchema), change.senders, 'senders');
    const perHour = change.perHour === undefined ? current.perHour : parseOrThrow(userLimitSchema, change.perHour, 'perHour');
    const recipientsPerDay = change.recipientsPerDay === undefined ? current.recipientsPerDay : parseOrThrow(userLimitSchema, change.recipientsPerDay, 'recipientsPerDay');
    this.db.prepare(`UPDATE users SET password_hash = ?, cram_secret = ?, enabled = ?, senders_json = ?, messages_per_hour = ?, recipients_per_day = ?, updated_at = ? WHERE name = ?`).run(
      change.passwordHash ?? current.passwordHash,
      change.cramSecret === undefined ? current.cramSecret : change.cramSecret,
      (change.enabled ?? current.enabled) ? 1 : 0,
      JSON.stringify(senders), perHour, recipientsPerDay, this.stamp(), current.name,
    );
  }

  removeUser(name: string): void {
    const result = this.db.prepare('DELETE FROM users WHERE name = ?').run(name);
    if (result.changes === 0) throw new AdminError('not-found', `no user named "${name}"`, 'name');
  }

  // ── certificates ───────────────────────────────────────────────────────────────────────

  listCertificates(): StoredCertificate[] {
    return (this.db.prepare('SELECT * FROM certificates ORDER BY name').all() as CertificateRow[]).map(certificateFromRow);
  }

  findCertificate(name: string): StoredCertificate | null {
    const row = this.db.prepare('SELECT * FROM certificates WHERE name = ?').get(name) as CertificateRow | undefined;
    return row ? certificateFromRow(row) : null;
  }

  addCertificate(certificate: NewCertificate): StoredCertificate {
    this.serverWrites++;
    if (this.findCertificate(certificate.name)) throw new AdminError('conflict', `a certificate named "${certificate.name}" already exists`, 'name');
    this.db.prepare(`INSERT INTO certificates (name, cert_pem, chain_pem, key_pem, fingerprint_sha256, subject, not_before, not_after, created_at)
      VALUES (@name, @certPem, @chainPem, @keyPem, @fingerprintSha256, @subject, @notBefore, @notAfter, @stamp)`).run({ ...certificate, stamp: this.stamp() });
    return this.findCertificate(certificate.name) as StoredCertificate;
  }

  removeCertificate(name: string): void {
    this.serverWrites++;
    const inUse = this.listServers().filter((s) => s.certificate === name || s.access.sniCertificates.includes(name)).map((s) => s.name);
    if (inUse.length) throw new AdminError('conflict', `certificate "${name}" is assigned to ${inUse.map((n) => `"${n}"`).join(', ')}; assign another first`, 'name');
    const result = this.db.prepare('DELETE FROM certificates WHERE name = ?').run(name);
    if (result.changes === 0) throw new AdminError('not-found', `no certificate named "${name}"`, 'name');
  }

  // ── certificate requests ───────────────────────────────────────────────────────────────

  addCertificateRequest(request: Omit<CertificateRequest, 'createdAt'>): void {
    if (this.findCertificateRequest(request.name) || this.findCertificate(request.name)) {
      throw new AdminError('conflict', `a certificate or request named "${request.name}" already exists`, 'name');
    }
    this.db.prepare(`INSERT INTO certificate_requests (name, common_name, alt_names_json, key_spec, key_pem, csr_pem, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`).run(request.name, request.commonName, JSON.stringify(request.altNames), request.keySpec, request.keyPem, request.csrPem, this.stamp());
  }

  listCertificateRequests(): CertificateRequest[] {
    return (this.db.prepare('SELECT * FROM certificate_requests ORDER BY created_at').all() as CertificateRequestRow[]).map(requestFromRow);
  }

  findCertificateRequest(name: string): CertificateRequest | null {
    const row = this.db.prepare('SELECT * FROM certificate_requests WHERE name = ?').get(name) as CertificateRequestRow | undefined;
    return row ? requestFromRow(row) : null;
  }

  removeCertificateRequest(name: string): void {
    const result = this.db.prepare('DELETE FROM certificate_requests WHERE name = ?').run(name);
    if (result.changes === 0) throw new AdminError('not-found', `no pending request named "${name}"`, 'name');
  }

  // ── queue ──────────────────────────────────────────────────────────────────────────────

  /**
   * Index accepted messages in one transaction. The spool files (envelope included) are already
   * durable; after a crash the queue is rebuilt from them, so this commit need not fsync.
   */
  insertMessages(batch: readonly AcceptedMessage[]): void {
    const insertMessage = this.stmt(`INSERT OR IGNORE INTO messages (id, server_name, received_at, mail_from, size, client_address, auth_user, spool_path, body_offset, state)
      VALUES (@id, @serverName, @receivedAt, @mailFrom, @size, @clientAddress, @authUser, @spoolPath, @bodyOffset, 'queued')`);
    const insertRecipient = this.stmt(`INSERT OR IGNORE INTO recipients (message_id, address, domain, route, state) VALUES (?, ?, ?, ?, 'queued')`);
    this.relaxedTransaction(() => {
      for (const message of batch) {
        const { recipients, ...row } = message;
        insertMessage.run(row);
        for (const rcpt of recipients) insertRecipient.run(message.id, rcpt.address, rcpt.domain, rcpt.route);
      }
    });
  }

  /** Messages, oldest first; by state, and by destination: a recipient domain, or "local" / "remote". */
  listQueue(filter: { state?: QueueEntry['state']; destination?: string } = {}): QueueEntry[] {
    const destination = filter.destination?.trim().toLowerCase() || null;
    const rows = this.db.prepare(`SELECT * FROM messages m WHERE (@state IS NULL OR m.state = @state)
      AND (@destination IS NULL OR EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id
        AND (r.domain = @destination OR r.route = @destination OR r.domain LIKE '%.' || @destination)))
      ORDER BY m.received_at`).all({ state: filter.state ?? null, destination }) as MessageRow[];
    return rows.map((row) => this.queueEntryFromRow(row));
  }

  /** The message, or a not-found error the CLI and the console show as is. */
  requireMessage(id: string): QueueEntry {
    const message = this.getMessage(id);
    if (!message) throw new AdminError('not-found', `no message ${id} in the queue`, 'id');
    return message;
  }

  getMessage(id: string): QueueEntry | null {
    const row = this.db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
    return row ? this.queueEntryFromRow(row) : null;
  }

  private queueEntryFromRow(row: MessageRow): QueueEntry {
    const recipients = this.db.prepare('SELECT * FROM recipients WHERE message_id = ? ORDER BY address').all(row.id) as RecipientRow[];
    return {
      id: row.id, serverName: row.server_name, receivedAt: row.received_at, mailFrom: row.mail_from, size: row.size,
      clientAddress: row.client_address, authUser: row.auth_user, spoolPath: row.spool_path, bodyOffset: row.body_offset, state: row.state,
      body: row.body, finishedAt: row.finished_at,
      recipients: recipients.map((r) => ({ address: r.address, domain: r.domain, route: r.route, state: r.state, attempts: r.attempts, lastReply: r.last_reply, nextAttemptAt: r.next_attempt_at, delayNotified: r.delay_notified === 1 })),
    };
  }

  /** Messages with local recipients still to deliver, oldest first. */
  dueLocalMessages(limit: number): QueueEntry[] {
    const rows = this.db.prepare(`SELECT DISTINCT m.* FROM messages m JOIN recipients r ON r.message_id = m.id
      WHERE m.state = 'queued' AND r.route = 'local' AND r.state = 'queued' ORDER BY m.received_at LIMIT ?`).all(limit) as MessageRow[];
    return rows.map((row) => this.queueEntryFromRow(row));
  }

  /** Remote recipients whose next attempt is due, grouped by message (oldest first); frozen messages wait. */
  dueRemoteMessages(nowIso: string, limit: number, heldServers: readonly string[] = []): QueueEntry[] {
    const rows = this.stmt(`SELECT DISTINCT m.* FROM messages m JOIN recipients r ON r.message_id = m.id
      WHERE m.state = 'queued' AND r.route = 'remote' AND r.state = 'queued' AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= ?)
        AND m.server_name NOT IN (SELECT value FROM json_each(?))
      ORDER BY m.received_at LIMIT ?`).all(nowIso, JSON.stringify(heldServers), limit) as MessageRow[];
    return rows.map((row) => this.queueEntryFromRow(row));
  }

  /** A temporary failure: count the attempt and schedule the next one. */
  deferRecipients(messageId: string, addresses: readonly string[], reply: string, nextAttemptAt: string): void {
    const update = this.stmt('UPDATE recipients SET attempts = attempts + 1, last_reply = ?, next_attempt_at = ? WHERE message_id = ? AND address = ?');
    this.db.transaction(() => { for (const address of addresses) update.run(reply, nextAttemptAt, messageId, address); })();
  }

  /** The sender was told these recipients are delayed; they are not told again. */
  markDelayNotified(messageId: string, addresses: readonly string[]): void {
    const update = this.stmt('UPDATE recipients SET delay_notified = 1 WHERE message_id = ? AND address = ?');
    this.db.transaction(() => { for (const address of addresses) update.run(messageId, address); })();
  }

  /** Freeze (no attempts until thawed), thaw, or retry now (every queued recipient due at once). */
  setMessageState(id: string, action: 'freeze' | 'thaw' | 'retry'): void {
    const message = this.requireMessage(id);
    if (message.state === 'done') throw new AdminError('conflict', `message ${id} is already done`, 'id');
    this.db.transaction(() => {
      if (action === 'freeze') this.db.prepare(`UPDATE messages SET state = 'frozen' WHERE id = ?`).run(id);
      else this.db.prepare(`UPDATE messages SET state = 'queued' WHERE id = ?`).run(id);
      if (action === 'retry') this.db.prepare(`UPDATE recipients SET next_attempt_at = NULL WHERE message_id = ? AND state = 'queued'`).run(id);
    })();
  }

  /** Remove a message from the queue (its spool file is the caller's to delete). */
  deleteMessage(id: string): QueueEntry {
    const message = this.requireMessage(id);
    this.db.prepare('DELETE FROM messages WHERE id = ?').run(id);
    return message;
  }

  /** Record the outcome for some recipients; a message with none left queued is done. */
  recordDelivery(messageId: string, addresses: readonly string[], outcome: { state: 'delivered' | 'failed'; reply: string }): void {
    const update = this.db.prepare('UPDATE recipients SET state = ?, attempts = attempts + 1, last_reply = ? WHERE message_id = ? AND address = ?');
    this.db.transaction(() => {
      for (const address of addresses) update.run(outcome.state, outcome.reply, messageId, address);
      const open = this.db.prepare(`SELECT COUNT(*) AS n FROM recipients WHERE message_id = ? AND state = 'queued'`).get(messageId) as { n: number };
      if (open.n === 0) this.stmt(`UPDATE messages SET state = 'done', finished_at = ? WHERE id = ?`).run(this.stamp(), messageId);
    })();
  }

  // ── queue history and retention ────────────────────────────────────────────────────────

  /** Finished messages whose body is still in the spool (delivery just ended, or a crash came in between). */
  finishedInSpool(limit: number): QueueEntry[] {
    const rows = this.stmt(`SELECT * FROM messages WHERE state = 'done' AND body = 'spool' LIMIT ?`).all(limit) as MessageRow[];
    return rows.map((row) => this.queueEntryFromRow(row));
  }

  /** Record where a finished message's body went (committed before the file is touched, see retention.ts). */
  setMessageBody(id: string, body: MessageBody, spoolPath?: string): void {
    this.stmt('UPDATE messages SET body = ?, spool_path = COALESCE(?, spool_path) WHERE id = ?').run(body, spoolPath ?? null, id);
  }

  /** Kept copies of messages finished before the cut-off. */
  keptCopiesBefore(cutoff: string, limit: number): Array<{ id: string; spoolPath: string }> {
    return (this.stmt(`SELECT id, spool_path FROM messages WHERE state = 'done' AND body = 'kept' AND finished_at < ? LIMIT ?`)
      .all(cutoff, limit) as Array<{ id: string; spool_path: string }>).map((r) => ({ id: r.id, spoolPath: r.spool_path }));
  }

  /** Forget finished messages (records only: their bodies are gone) older than the cut-off. */
  pruneHistory(cutoff: string): number {
    return this.stmt(`DELETE FROM messages WHERE state = 'done' AND body = 'removed' AND finished_at < ?`).run(cutoff).changes;
  }

  // ── known login addresses (the throttle never blocks a user where it signed in before) ──

  recordLoginAddress(user: string, address: string, at: string): void {
    this.stmt(`INSERT INTO login_addresses (user, address, last_success_at) VALUES (?, ?, ?)
      ON CONFLICT(user, address) DO UPDATE SET last_success_at = excluded.last_success_at`).run(user, address, at);
  }

  /** Addresses each user signed in from successfully since the cut-off. */
  loginAddressesSince(cutoff: string): Array<{ user: string; address: string; lastSuccessAt: string }> {
    return (this.stmt('SELECT user, address, last_success_at FROM login_addresses WHERE last_success_at >= ?').all(cutoff) as Array<{ user: string; address: string; last_success_at: string }>)
      .map((r) => ({ user: r.user, address: r.address, lastSuccessAt: r.last_success_at }));
  }

  pruneLoginAddresses(cutoff: string): number {
    return this.stmt('DELETE FROM login_addresses WHERE last_success_at < ?').run(cutoff).changes;
  }

  /** What deleting a server takes with it. */
  serverDependents(serverName: string): { queued: number; finished: number; events: number } {
    const count = (sql: string) => (this.db.prepare(sql).get(serverName) as { n: number }).n;
    return {
      queued: count(`SELECT COUNT(*) AS n FROM messages WHERE server_name = ? AND state != 'done'`),
      finished: count(`SELECT COUNT(*) AS n FROM messages WHERE server_name = ? AND state = 'done'`),
      events: count('SELECT COUNT(*) AS n FROM session_events WHERE server = ?'),
    };
  }

  messageIdsOf(serverName: string): string[] {
    return (this.db.prepare('SELECT id FROM messages WHERE server_name = ?').all(serverName) as Array<{ id: string }>).map((r) => r.id);
  }

  deleteEventsOf(serverName: string): number {
    return this.db.prepare('DELETE FROM session_events WHERE server = ?').run(serverName).changes;
  }

  /** Messages by state and the oldest still queued, from the state index (no rows are loaded). */
  queueDepth(): { byState: Record<QueueEntry['state'], number>; oldestQueuedAt: string | null } {
    const byState: Record<QueueEntry['state'], number> = { queued: 0, frozen: 0, done: 0 };
    for (const row of this.stmt('SELECT state, COUNT(*) AS n FROM messages GROUP BY state').all() as Array<{ state: QueueEntry['state']; n: number }>) byState[row.state] = row.n;
    const oldest = this.stmt("SELECT MIN(received_at) AS at FROM messages WHERE state = 'queued'").get() as { at: string | null };
    return { byState, oldestQueuedAt: oldest.at };
  }

  /** Messages that failed (a report was sent, or the badmail folder) and finished after the cut-off. */
  countFailedSince(cutoff: string): number {
    return (this.db.prepare(`SELECT COUNT(DISTINCT m.id) AS n FROM messages m JOIN recipients r ON r.message_id = m.id
      WHERE m.state = 'done' AND r.state = 'failed' AND m.finished_at >= ?`).get(cutoff) as { n: number }).n;
  }

  /** Spool files the index knows, to tell orphans (written, never acknowledged) from queued mail. */
  knownSpoolPaths(): Set<string> {
    const rows = this.db.prepare('SELECT spool_path FROM messages').all() as Array<{ spool_path: string }>;
    return new Set(rows.map((r) => r.spool_path));
  }

  // ── session log ────────────────────────────────────────────────────────────────────────

  /** Append events in one transaction (the log writer batches them). */
  appendEvents(events: readonly SessionEvent[]): void {
    const insert = this.stmt(`INSERT INTO session_events (at, server, session, address, type, user, verdict, code, rule, event_json)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    // The log is a record, not a promise to a client: no fsync of its own.
    this.relaxedTransaction(() => {
      for (const e of events) {
        const decision = 'decision' in e ? e.decision : undefined;
        insert.run(e.at, e.server, e.session, e.address, e.type, e.user, decision?.verdict ?? null, decision?.code ?? null, decision?.rule ?? null, JSON.stringify(e));
      }
    });
  }

  /**
   * Events by the contract's filter (log-view.ts): exact fields narrow the SQL query, the rest
   * (parts of an address, user or line) is the same predicate the live log applies on screen,
   * so the store returns exactly the rows the console shows.
   */
  queryEvents(filter: EventQuery): Array<SessionEvent & { id: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => { where.push(sql); params.push(value); };
    if (filter.server) add('server = ? COLLATE NOCASE', filter.server);
    if (filter.verdict) add('verdict = ?', filter.verdict);
    if (filter.type) add('type = ?', filter.type);
    if (filter.session) add('session = ?', filter.session);
    if (filter.from) add('at >= ?', filter.from);
    if (filter.to) add('at <= ?', filter.to);
    const order = filter.oldestFirst ? 'ASC' : 'DESC';
    const needsPredicate = Boolean(filter.address || filter.user || filter.text || filter.verdict);
    const batch = needsPredicate ? Math.max(filter.limit * 4, 2000) : filter.limit;
    const results: Array<SessionEvent & { id: number }> = [];
    let cursor = filter.beforeId ?? null;
    let after: number | null = filter.afterId ?? null;
    for (;;) {
      const page = [...where, ...(filter.oldestFirst ? (after !== null ? ['id > ?'] : []) : (cursor !== null ? ['id < ?'] : []))];
      const pageParams = [...params, ...(filter.oldestFirst ? (after !== null ? [after] : []) : (cursor !== null ? [cursor] : []))];
      const rows = this.db.prepare(`SELECT id, event_json FROM session_events ${page.length ? `WHERE ${page.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ?`)
        .all(...pageParams, batch) as Array<{ id: number; event_json: string }>;
      for (const row of rows) {
        const event = { ...(JSON.parse(row.event_json) as SessionEvent), id: row.id };
        if (!needsPredicate || matchesLogView(event, filter)) results.push(event);
        if (results.length >= filter.limit) return results;
      }
      if (rows.length < batch) return results;
      const last = rows[rows.length - 1]?.id ?? 0;
      if (filter.oldestFirst) after = last;
      else cursor = last;
    }
  }

  /** Delete events older than the cut-off, then the oldest beyond maxEvents. Returns rows deleted. */
  pruneEvents(olderThan: string, maxEvents: number): number {
    let deleted = this.db.prepare('DELETE FROM session_events WHERE at < ?').run(olderThan).changes;
    const newestKept = this.db.prepare('SELECT id FROM session_events ORDER BY id DESC LIMIT 1 OFFSET ?').get(maxEvents - 1) as { id: number } | undefined;
    if (newestKept) deleted += this.db.prepare('DELETE FROM session_events WHERE id < ?').run(newestKept.id).changes;
    return deleted;
  }

  countEvents(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM session_events').get() as { n: number }).n;
  }

  // ── OAuth2 sign-ins to smart hosts ─────────────────────────────────────────────────────

  getSignIn(serverName: string): StoredSignIn | null {
    const row = this.stmt('SELECT * FROM oauth_sign_ins WHERE server_name = ?').get(serverName) as SignInRow | undefined;
    return row ? {
      serverName: row.server_name, account: row.account, refreshTokenSealed: row.refresh_token_sealed, signedInAt: row.signed_in_at,
      lastRefreshAt: row.last_refresh_at, accessExpiresAt: row.access_expires_at, needsSignIn: row.needs_sign_in === 1, lastError: row.last_error,
    } : null;
  }

  /** A new sign-in replaces the old one and clears "sign-in needed". */
  saveSignIn(serverName: string, signIn: { account: string; refreshTokenSealed: string | null; accessExpiresAt: string | null; at: string }): void {
    this.stmt(`INSERT INTO oauth_sign_ins (server_name, account, refresh_token_sealed, signed_in_at, last_refresh_at, access_expires_at, needs_sign_in, last_error)
      VALUES (@serverName, @account, @refreshTokenSealed, @at, @at, @accessExpiresAt, 0, NULL)
      ON CONFLICT(server_name) DO UPDATE SET account = excluded.account, refresh_token_sealed = excluded.refresh_token_sealed,
        signed_in_at = excluded.signed_in_at, last_refresh_at = excluded.last_refresh_at, access_expires_at = excluded.access_expires_at,
        needs_sign_in = 0, last_error = NULL`).run({ serverName, ...signIn });
  }

  /** After a refresh: the rotated refresh token (if the provider rotated it) and the new expiry. */
  recordRefresh(serverName: string, refresh: { refreshTokenSealed: string | null; accessExpiresAt: string; at: string; signedInAt: string }): void {
    // Only for the sign-in the refresh started from: a new sign-in meanwhile (the CLI) wins.
    this.stmt(`UPDATE oauth_sign_ins SET refresh_token_sealed = COALESCE(@refreshTokenSealed, refresh_token_sealed),
      access_expires_at = @accessExpiresAt, last_refresh_at = @at, last_error = NULL
      WHERE server_name = @serverName AND signed_in_at = @signedInAt`).run({ serverName, ...refresh });
  }

  /** A refresh failed; needsSignIn when the grant itself is gone (invalid_grant), not for an outage. */
  recordSignInError(serverName: string, error: string, needsSignIn: boolean): void {
    this.stmt('UPDATE oauth_sign_ins SET last_error = ?, needs_sign_in = MAX(needs_sign_in, ?) WHERE server_name = ?').run(error, needsSignIn ? 1 : 0, serverName);
  }

  removeSignIn(serverName: string): boolean {
    return this.stmt('DELETE FROM oauth_sign_ins WHERE server_name = ?').run(serverName).changes > 0;
  }

  /** After a new sign-in: the server's waiting remote recipients are due at once. */
  retryRemoteNow(serverName: string): number {
    return this.stmt(`UPDATE recipients SET next_attempt_at = NULL WHERE state = 'queued' AND route = 'remote'
      AND message_id IN (SELECT id FROM messages WHERE server_name = ? AND state = 'queued')`).run(serverName).changes;
  }

  // ── whole configuration ────────────────────────────────────────────────────────────────

  exportConfig(options: { withSecrets: boolean }): ConfigDocument {
    return {
      format: CONFIG_FORMAT,
      version: CONFIG_VERSION,
      // The smart host password is a secret like the others: only with --with-secrets.
      servers: this.listServers().map((server) => {
        const host = server.delivery.smartHost;
        if (options.withSecrets || !host) return server;
        const oauth2 = host.oauth2 ? { ...host.oauth2, clientSecret: null } : null;
        return { ...server, delivery: { ...server.delivery, smartHost: { ...host, password: null, oauth2 } } };
      }),
      acceptedDomains: this.listAcceptedDomains(),
      users: this.listUsers().map((u) => ({
        name: u.name, enabled: u.enabled, senders: u.senders, cramMd5: u.cramSecret !== null, perHour: u.perHour, recipientsPerDay: u.recipientsPerDay,
        ...(options.withSecrets ? { passwordHash: u.passwordHash, ...(u.cramSecret ? { cramSecret: u.cramSecret } : {}) } : {}),
      })),
      certificates: this.listCertificates().map((c) => ({
        name: c.name, certPem: c.certPem, chainPem: c.chainPem, ...(options.withSecrets ? { keyPem: c.keyPem } : {}),
      })),
    };
  }

  /**
   * Replace the whole configuration with a document, atomically. Secrets missing from the
   * document (an export without --with-secrets) are kept from the current store where the
   * user or certificate already exists; otherwise the import is refused and nothing changes.
   * The queue is not part of the configuration and is left alone.
   */
  importConfig(input: unknown, inspectCertificate: (certPem: string) => Omit<NewCertificate, 'name' | 'certPem' | 'chainPem' | 'keyPem'>): void {
    this.serverWrites++;
    const doc = parseOrThrow(configDocumentSchema, input);
    const users = doc.users.map((user, i) => {
      const existing = this.findUser(user.name);
      const passwordHash = user.passwordHash ?? existing?.passwordHash;
      if (!passwordHash) throw new AdminError('invalid', `users[${i}].passwordHash: user "${user.name}" is new and the document has no password hash (export with --with-secrets, or add the user with \`relaydesk user add\`)`, `users[${i}].passwordHash`);
      // A document may carry the contexts (an export) or, from older versions, the password itself.
      const given = user.cramSecret ? (isCramMd5Contexts(user.cramSecret) ? user.cramSecret : cramMd5Contexts(user.cramSecret)) : null;
      const cramSecret = user.cramMd5 ? (given ?? existing?.cramSecret ?? null) : null;
      if (user.cramMd5 && !cramSecret) throw new AdminError('invalid', `users[${i}].cramSecret: CRAM-MD5 is on for "${user.name}" but no secret is known`, `users[${i}].cramSecret`);
      return { ...user, passwordHash, cramSecret };
    });
    const certificates = doc.certificates.map((cert, i) => {
      const existing = this.findCertificate(cert.name);
      const keyPem = cert.keyPem ?? (existing && existing.certPem.trim() === cert.certPem.trim() ? existing.keyPem : undefined);
      if (!keyPem) throw new AdminError('invalid', `certificates[${i}].keyPem: certificate "${cert.name}" has no private key in the document and none is stored for it`, `certificates[${i}].keyPem`);
      let facts: ReturnType<typeof inspectCertificate>;
      try {
        facts = inspectCertificate(cert.certPem);
      } catch (err) {
        throw new AdminError('invalid', `certificates[${i}].certPem: ${(err as Error).message}`, `certificates[${i}].certPem`);
      }
      return { name: cert.name, certPem: cert.certPem, chainPem: cert.chainPem, keyPem, ...facts };
    });
    // A smart host password left out of the document (an export without secrets) is kept.
    const stored = new Map(this.listServers().map((s) => [s.name.toLowerCase(), s.delivery.smartHost]));
    for (const server of doc.servers) {
      const smartHost = server.delivery.smartHost;
      const before = stored.get(server.name.toLowerCase());
      if (smartHost && smartHost.password === null) smartHost.password = before?.password ?? null;
      if (smartHost?.oauth2 && smartHost.oauth2.clientSecret === null) smartHost.oauth2.clientSecret = before?.oauth2?.clientSecret ?? null;
    }
    const before = this.listServers();
    this.db.transaction(() => {
      for (const server of before) this.dropStaleSignIn(server, doc.servers.find((s) => s.name.toLowerCase() === server.name.toLowerCase()) ?? null);
      this.db.exec('DELETE FROM address_rules; DELETE FROM virtual_servers; DELETE FROM accepted_domains; DELETE FROM users; DELETE FROM certificates;');
      for (const cert of certificates) this.addCertificate(cert);
      for (const server of doc.servers) this.writeServer(server, null);
      for (const domain of doc.acceptedDomains) this.addAcceptedDomain(domain);
      for (const user of users) {
        this.addUser({ name: user.name, passwordHash: user.passwordHash, cramSecret: user.cramSecret, senders: user.senders });
        if (!user.enabled || user.perHour !== null || user.recipientsPerDay !== null) {
          this.updateUser(user.name, { enabled: user.enabled, perHour: user.perHour, recipientsPerDay: user.recipientsPerDay });
        }
      }
    })();
  }
}

export interface CertificateRequest { name: string; commonName: string; altNames: string[]; keySpec: string; keyPem: string; csrPem: string; createdAt: string }
interface CertificateRequestRow { name: string; common_name: string; alt_names_json: string; key_spec: string; key_pem: string; csr_pem: string; created_at: string }

function requestFromRow(row: CertificateRequestRow): CertificateRequest {
  return { name: row.name, commonName: row.common_name, altNames: JSON.parse(row.alt_names_json) as string[], keySpec: row.key_spec, keyPem: row.key_pem, csrPem: row.csr_pem, createdAt: row.created_at };
}

interface CertificateRow { id: number; name: string; cert_pem: string; chain_pem: string; key_pem: string; fingerprint_sha256: string; subject: string; not_before: string; not_after: string }
export interface StoredSignIn {
  serverName: string; account: string; refreshTokenSealed: string | null; signedInAt: string;
  lastRefreshAt: string | null; accessExpiresAt: string | null; needsSignIn: boolean; lastError: string | null;
}
interface SignInRow {
  server_name: string; account: string; refresh_token_sealed: string | null; signed_in_at: string;
  last_refresh_at: string | null; access_expires_at: string | null; needs_sign_in: number; last_error: string | null;
}
interface MessageRow { id: string; server_name: string; received_at: string; mail_from: string; size: number; client_address: string; auth_user: string | null; spool_path: string; body_offset: number; state: QueueEntry['state']; body: MessageBody; finished_at: string | null }
interface RecipientRow { address: string; domain: string; route: 'local' | 'remote'; state: 'queued' | 'delivered' | 'failed'; attempts: number; last_reply: string | null; next_attempt_at: string | null; delay_notified: number }

function userFromRow(row: UserRow): StoredUser {
  return {
    name: row.name, passwordHash: row.password_hash, cramSecret: row.cram_secret, enabled: row.enabled === 1, senders: JSON.parse(row.senders_json) as string[],
    createdAt: row.created_at, perHour: row.messages_per_hour, recipientsPerDay: row.recipients_per_day,
  };
}

function certificateFromRow(row: CertificateRow): StoredCertificate {
  return { id: row.id, name: row.name, certPem: row.cert_pem, chainPem: row.chain_pem, keyPem: row.key_pem, fingerprintSha256: row.fingerprint_sha256, subject: row.subject, notBefore: row.not_before, notAfter: row.not_after };
}

export type { AccessSettings };

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
