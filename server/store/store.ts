// The configuration and queue store: one SQLite file (WAL, synchronous=FULL), one connection,
// and the only module that writes to it. Every write is validated first; a refused write
// changes nothing. SQL lives in this folder and nowhere else: one module per area
// (account-, server-, queue- and event-tables, built on store-base), and Store, the one facade
// the rest of Relaydesk uses, adds the whole configuration as one document.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CONFIG_FORMAT, CONFIG_VERSION, type ConfigDocument, configDocumentSchema } from '../contract/config';
import { AdminError, parseOrThrow } from '../contract/errors';
import { cramMd5Contexts, isCramMd5Contexts } from '../auth/cram-md5';
import { fileKeySecretBox, type SecretBox } from '../oauth/secret-box';
import type { NewCertificate } from './records';
import { EventTables } from './event-tables';
import { type DeliverySettings, mapSmartHosts, type SmartHost } from '../contract/settings';

/** Delivery settings with every smart host's password and client secret left out (exports, the console). */
export function withoutHostSecrets<D extends DeliverySettings>(delivery: D): D {
  return mapSmartHosts(delivery, (host) => ({ ...host, password: null, oauth2: host.oauth2 ? { ...(host.oauth2 as object), clientSecret: null } : null }));
}

/** Secrets left out (null) taken from the stored settings of the same smart host (default, or route of the same name). */
function keepHostSecrets(next: DeliverySettings, stored: DeliverySettings): DeliverySettings {
  const storedHost = (route: string | null): SmartHost | null => (route === null ? stored.smartHost : stored.routes.find((r) => r.name.toLowerCase() === route.toLowerCase())?.smartHost ?? null);
  return mapSmartHosts(next, (host, route) => {
    const before = storedHost(route);
    const h = host as unknown as SmartHost;
    return { ...h, password: h.password ?? before?.password ?? null, oauth2: h.oauth2 ? { ...h.oauth2, clientSecret: h.oauth2.clientSecret ?? (h.oauth2.certificate ? null : before?.oauth2?.clientSecret ?? null) } : null };
  });
}

export interface StoreOptions {
  /** Folder of the store; created (owner-only) when missing. */
  dataDir: string;
  now?: () => Date;
  /** Seals the smart host password and OAuth2 client secret at rest; default the data folder's key file. */
  box?: SecretBox;
  /** Run SQLite's quick_check when opening (default); the CLI's offline app skips it. */
  quickCheck?: boolean;
}

export const STORE_FILE = 'relaydesk.db';

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
    // O(size of the file): about a second at a million queued messages. serve checks at start;
    // a CLI command next to a running serve does not pay it every time.
    if (options.quickCheck !== false) db.pragma('quick_check');
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

/** The store: every table module, and the whole configuration as one document. */
export class Store extends EventTables {
  // ── whole configuration ────────────────────────────────────────────────────────────────

  exportConfig(options: { withSecrets: boolean }): ConfigDocument {
    return {
      format: CONFIG_FORMAT,
      version: CONFIG_VERSION,
      // The smart host password is a secret like the others: only with --with-secrets.
      servers: this.listServers().map((server) => (options.withSecrets ? server : { ...server, delivery: withoutHostSecrets(server.delivery) })),
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
    // A smart host password or client secret left out of the document (an export without secrets) is kept.
    const stored = new Map(this.listServers().map((s) => [s.name.toLowerCase(), s.delivery]));
    for (const server of doc.servers) {
      const before = stored.get(server.name.toLowerCase());
      if (before) server.delivery = keepHostSecrets(server.delivery, before);
    }
    const before = this.listServers();
    this.transaction(() => {
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
    });
  }
}

export type {
  AcceptedMessage, CertificateRequest, EventQuery, MessageBody, NewCertificate, QueuedRecipient, QueueEntry, StoredCertificate, StoredSignIn, StoredUser, VirtualServerPatch,
} from './records';
export type { AccessSettings } from '../contract/settings';
