// The store against a real SQLite file: validated writes that change nothing when refused,
// address:port conflicts, migrations from empty, and clear errors for unusable files.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ACCESS, DEFAULT_DELIVERY, DEFAULT_MESSAGES, type VirtualServerInput } from '../../server/contract/settings';
import { AdminError } from '../../server/contract/errors';
import type { SessionEvent } from '../../server/contract/events';
import { MIGRATIONS } from '../../server/store/migrations';
import { isCramMd5Contexts, verifyCramMd5 } from '../../server/auth/cram-md5';
import { readSpooled } from '../../server/spool/spooled-body';
import { openStore, STORE_FILE, type Store } from '../../server/store/store';
import { tempDir } from '../helpers/test-app';

const dirs: string[] = [];
const stores: Store[] = [];
function newStore(): { store: Store; dir: string } {
  const dir = tempDir();
  dirs.push(dir);
  const store = openStore({ dataDir: dir });
  stores.push(store);
  return { store, dir };
}
/** A store file in a new data folder with the schema of `version` (migrations up to it), open for the test to fill. */
function storeAtVersion(version: number): { dir: string; db: Database.Database } {
  const dir = tempDir();
  dirs.push(dir);
  const db = new Database(path.join(dir, STORE_FILE));
  for (const migration of MIGRATIONS.filter((m) => m.version <= version)) migration.up(db);
  db.pragma(`user_version = ${version}`);
  return { dir, db };
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function server(over: Partial<VirtualServerInput> = {}): VirtualServerInput {
  return {
    name: 'Office', bindAddress: '127.0.0.1', port: 2525, tlsPort: null, fqdn: 'mail.example.com', maxConnections: 50,
    connectionTimeoutSeconds: 60, loggingEnabled: true, state: 'started', access: DEFAULT_ACCESS, messages: DEFAULT_MESSAGES,
    delivery: DEFAULT_DELIVERY, connectionRules: [], relayRules: [], certificate: null, ...over,
  };
}

function expectAdminError(work: () => unknown, code: AdminError['code'], field: string | undefined, message: RegExp): void {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(AdminError);
    expect((err as AdminError).code).toBe(code);
    expect((err as AdminError).field).toBe(field);
    expect((err as AdminError).message).toMatch(message);
    return;
  }
  throw new Error('expected an AdminError');
}

describe('store', () => {
  it('creates the schema from an empty file, in WAL mode, readable by the owner only', () => {
    const { store, dir } = newStore();
    expect(store.schemaVersion()).toBe(MIGRATIONS[MIGRATIONS.length - 1]?.version);
    const db = new Database(path.join(dir, STORE_FILE), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
    db.close();
    expect(tables).toEqual(['accepted_domains', 'address_rules', 'certificate_requests', 'certificates', 'login_addresses', 'messages', 'meta', 'oauth_sign_ins', 'recipients', 'session_events', 'users', 'virtual_servers']);
    if (process.platform !== 'win32') {
      expect(fs.statSync(path.join(dir, STORE_FILE)).mode & 0o777).toBe(0o600);
      expect(fs.statSync(dir).mode & 0o077).toBe(0);
    }
  });

  it('stores a server with its lists and reads it back normalised', () => {
    const { store } = newStore();
    store.createServer(server({
      connectionRules: [{ kind: 'subnet', network: '192.168.1.9', mask: '255.255.255.0' }, { kind: 'address', address: '::FFFF:10.0.0.1' }],
      relayRules: [{ kind: 'domain', domain: 'Office.Example' }],
    }));
    const stored = store.getServer('office');
    expect(stored.connectionRules).toEqual([{ kind: 'subnet', network: '192.168.1.0', prefix: 24 }, { kind: 'address', address: '10.0.0.1' }]);
    expect(stored.relayRules).toEqual([{ kind: 'domain', domain: 'office.example' }]);
  });

  it.each([
    { desc: 'port out of range', change: { port: 70000 }, field: 'port', message: /^port: must be 0 to 65535$/ },
    { desc: 'bad bind address', change: { bindAddress: 'somewhere' }, field: 'bindAddress', message: /bindAddress: must be "all" \(All unassigned\) or an IPv4 or IPv6 address/ },
    { desc: 'bad fqdn', change: { fqdn: 'not a host' }, field: 'fqdn', message: /fqdn: must be a host name/ },
    { desc: 'bad subnet mask', change: { connectionRules: [{ kind: 'subnet', network: '10.0.0.0', mask: '255.0.255.0' }] }, field: 'connectionRules[0].mask', message: /subnet mask/ },
    { desc: 'empty name', change: { name: '  ' }, field: 'name', message: /name: must not be empty/ },
  ])('refuses $desc, naming the field, and writes nothing', ({ change, field, message }) => {
    const { store } = newStore();
    expectAdminError(() => store.createServer(server(change as Partial<VirtualServerInput>)), 'invalid', field, message);
    expect(store.listServers()).toEqual([]);
  });

  it('refuses two servers on one address and port, and "all" against any address', () => {
    const { store } = newStore();
    store.createServer(server());
    expectAdminError(() => store.createServer(server({ name: 'Second' })), 'conflict', 'port', /127\.0\.0\.1 port 2525 is already used by virtual server "Office"/);
    expectAdminError(() => store.createServer(server({ name: 'Third', bindAddress: 'all' })), 'conflict', 'port', /all addresses port 2525/);
    store.createServer(server({ name: 'Fourth', bindAddress: '127.0.0.2' }));
    expectAdminError(() => store.createServer(server({ name: 'Office' , port: 2526 })), 'conflict', 'name', /already exists/);
    expect(store.listServers().map((s) => s.name)).toEqual(['Office', 'Fourth']);
  });

  it('updates field by field and keeps the old settings when the patch is invalid', () => {
    const { store } = newStore();
    store.createServer(server());
    store.updateServer('Office', { access: { anonymous: true } });
    expect(store.getServer('Office').access).toEqual({ ...DEFAULT_ACCESS, anonymous: true });
    expectAdminError(() => store.updateServer('Office', { access: { anonymous: false }, messages: { maxRecipientsPerMessage: 0 } }), 'invalid', 'messages.maxRecipientsPerMessage', /messages\.maxRecipientsPerMessage/);
    expect(store.getServer('Office').access.anonymous).toBe(true);
    expectAdminError(() => store.updateServer('Office', { access: { nonsense: true } as never }), 'invalid', 'access', /nonsense/);
  });

  it('a change that reads before it writes waits for another process instead of failing with "database is locked"', () => {
    const { store, dir } = newStore();
    store.createServer(server());
    // Another process (a running serve, the CLI beside it) writing to the same file, impatient on purpose.
    const other = new Database(path.join(dir, STORE_FILE), { timeout: 20 });
    try {
      let otherWrite = 'not tried';
      const limitBefore = store.getServer('Office').maxConnections ?? 0;
      store.transaction(() => {
        const current = store.getServer('Office'); // the read: a deferred transaction takes its snapshot here
        try {
          other.prepare(`INSERT INTO meta (key, value) VALUES ('other', '1')`).run();
          otherWrite = 'committed';
        } catch (err) {
          otherWrite = (err as Error).message;
        }
        store.updateServer('Office', { maxConnections: (current.maxConnections ?? 0) + 1 });
      });
      // The other process waited for this transaction (it would retry after its busy timeout) ...
      expect(otherWrite).toBe('database is locked');
      expect(store.getServer('Office').maxConnections).toBe(limitBefore + 1);
      // ... and gets its turn once it is done.
      other.prepare(`INSERT INTO meta (key, value) VALUES ('other', '2')`).run();
      expect(store.getMeta('other')).toBe('2');
    } finally {
      other.close();
    }
  });

  it('appends a batch of log events whole and in order (several rows a statement, the rest one by one), with the decision in its columns', () => {
    const { store, dir } = newStore();
    const events: SessionEvent[] = Array.from({ length: 37 }, (_, i): SessionEvent => (i % 3 === 0
      ? { type: 'rcpt', to: `r${i}@example.com`, decision: { verdict: 'refuse', code: 550, enhanced: '5.7.1', text: 'Relay denied', rule: 'relay:denied' }, at: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`, server: 'Office', session: `s${i}`, address: '192.0.2.1', user: null }
      : { type: 'close', bytesIn: i, bytesOut: 2 * i, durationMs: 3, at: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`, server: 'Office', session: `s${i}`, address: '192.0.2.2', user: i % 2 ? 'alice' : null }));
    store.appendEvents(events);
    const stored = store.queryEvents({ limit: 100, oldestFirst: true });
    expect(stored.map(({ id: _id, ...e }) => e)).toEqual(events);
    expect(stored.every((e, i) => i === 0 || e.id > (stored[i - 1]?.id ?? Infinity))).toBe(true);
    expect(store.queryEvents({ limit: 100, verdict: 'refuse' }).map((e) => e.session).sort()).toEqual(events.filter((_, i) => i % 3 === 0).map((e) => e.session).sort());
    const raw = new Database(path.join(dir, STORE_FILE), { readonly: true });
    expect(raw.prepare("SELECT verdict, code, rule FROM session_events WHERE session = 's3'").get()).toEqual({ verdict: 'refuse', code: 550, rule: 'relay:denied' });
    raw.close();
  });

  it('refuses a user name with spaces and a duplicate user', () => {
    const { store } = newStore();
    expectAdminError(() => store.addUser({ name: 'a b', passwordHash: 'scrypt$x', cramSecret: null }), 'invalid', 'name', /spaces/);
    store.addUser({ name: 'alice', passwordHash: 'scrypt$x', cramSecret: null });
    expectAdminError(() => store.addUser({ name: 'ALICE', passwordHash: 'scrypt$x', cramSecret: null }), 'conflict', 'name', /already exists/);
    expect(store.listUsers()).toHaveLength(1);
  });

  it('refuses a store written by a newer Relaydesk', () => {
    const { dir } = newStore();
    stores.splice(0).forEach((s) => s.close());
    const db = new Database(path.join(dir, STORE_FILE));
    db.pragma('user_version = 999');
    db.close();
    expect(() => openStore({ dataDir: dir })).toThrow(/schema version 999, newer than this Relaydesk understands/);
  });

  it('gives a clear message for a corrupt file', () => {
    const dir = tempDir();
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, STORE_FILE), Buffer.alloc(8192, 0x5a));
    expect(() => openStore({ dataDir: dir })).toThrow(/cannot open the store .*relaydesk\.db: file is not a database/);
  });
});

describe('migrations', () => {
  it('each migration applies on top of the previous schema and records its version', () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = new Database(path.join(dir, STORE_FILE));
    for (const migration of MIGRATIONS) {
      expect(db.pragma('user_version', { simple: true })).toBe(migration.version - 1);
      db.transaction(() => {
        migration.up(db);
        db.pragma(`user_version = ${migration.version}`);
      })();
    }
    db.close();
    const store = openStore({ dataDir: dir });
    stores.push(store);
    expect(store.schemaVersion()).toBe(MIGRATIONS.length);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('upgrades a version-2 store with queued mail and users, keeping them', () => {
    const { dir, db } = storeAtVersion(2);
    db.prepare(`INSERT INTO messages (id, server_name, received_at, mail_from, size, client_address, auth_user, spool_path, state)
      VALUES ('OLD-1', 'Office', '2026-01-01T00:00:00.000Z', 'a@example.com', 10, '192.0.2.1', NULL, '/spool/OLD-1.eml', 'queued')`).run();
    db.prepare(`INSERT INTO users (name, password_hash, enabled, created_at, updated_at) VALUES ('alice', 'scrypt$x', 1, 'now', 'now')`).run();
    db.close();
    const store = openStore({ dataDir: dir });
    stores.push(store);
    expect(store.schemaVersion()).toBe(MIGRATIONS.length);
    expect(store.getMessage('OLD-1')).toMatchObject({ mailFrom: 'a@example.com', bodyOffset: 0, state: 'queued' });
    expect(store.findUser('alice')?.passwordHash).toBe('scrypt$x');
    expect(store.listCertificateRequests()).toEqual([]);
  });

  it('upgrades a version-6 store: CRAM-MD5 passwords become HMAC-MD5 contexts, smart host secrets are sealed, finished mail gets a body state', () => {
    const { dir, db } = storeAtVersion(6);
    db.prepare(`INSERT INTO users (name, password_hash, cram_secret, enabled, created_at, updated_at) VALUES ('scanner', 'scrypt$x', 'old-device-secret', 1, 'now', 'now')`).run();
    const delivery = { ...DEFAULT_DELIVERY, smartHost: { host: 'smtp.example', port: 587, security: 'starttls', verifyCertificate: true, authentication: 'basic', user: 'relay@example.com', password: 'plaintext-smart-host-password', trustedCertificate: null, oauth2: null } };
    db.prepare(`INSERT INTO virtual_servers (name, bind_address, port, tls_port, fqdn, max_connections, connection_timeout_seconds, logging_enabled, state, access_json, messages_json, delivery_json, created_at, updated_at)
      VALUES ('Office', '127.0.0.1', 2525, NULL, 'mail.example.com', 100, 120, 1, 'stopped', ?, ?, ?, 'now', 'now')`).run(JSON.stringify(DEFAULT_ACCESS), JSON.stringify(DEFAULT_MESSAGES), JSON.stringify(delivery));
    db.prepare(`INSERT INTO messages (id, server_name, received_at, mail_from, size, client_address, auth_user, spool_path, state)
      VALUES ('DONE-1', 'Office', '2026-01-01T00:00:00.000Z', 'a@example.com', 10, '192.0.2.1', NULL, '/spool/DONE-1.eml', 'done')`).run();
    db.close();
    const store = openStore({ dataDir: dir });
    stores.push(store);
    const cram = store.findUser('scanner')?.cramSecret ?? '';
    expect(isCramMd5Contexts(cram)).toBe(true);
    expect(verifyCramMd5(cram, '<1.2@relay>', crypto.createHmac('md5', 'old-device-secret').update('<1.2@relay>').digest('hex'))).toBe(true);
    expect(store.getServer('Office').delivery.smartHost?.password).toBe('plaintext-smart-host-password');
    store.checkpoint();
    const file = fs.readFileSync(path.join(dir, STORE_FILE), 'latin1');
    expect(file).not.toContain('plaintext-smart-host-password');
    expect(file).not.toContain('old-device-secret');
    expect(store.getMessage('DONE-1')).toMatchObject({ state: 'done', body: 'spool' });
    expect(store.finishedInSpool(10).map((m) => m.id)).toEqual(['DONE-1']);
    expect(store.getServer('Office').banner).toBeNull();
  });

  it('upgrades a version-8 store: queued mail in files of its own is read to the end of its file', async () => {
    const { dir, db } = storeAtVersion(8);
    const file = path.join(dir, 'OLD-8.eml');
    const envelope = 'X-Relaydesk-Envelope: e30=\r\n';
    fs.writeFileSync(file, `${envelope}Received: from old\r\nSubject: before group commit\r\n\r\nbody\r\n`);
    db.prepare(`INSERT INTO messages (id, server_name, received_at, mail_from, size, client_address, auth_user, spool_path, body_offset, state)
      VALUES ('OLD-8', 'Office', '2026-01-01T00:00:00.000Z', 'a@example.com', 10, '192.0.2.1', NULL, ?, ?, 'queued')`).run(file, envelope.length);
    db.close();
    const store = openStore({ dataDir: dir });
    stores.push(store);
    const entry = store.requireMessage('OLD-8');
    expect(entry).toMatchObject({ bodyOffset: envelope.length, bodyLength: null, body: 'spool' });
    expect((await readSpooled(entry)).toString()).toBe('Received: from old\r\nSubject: before group commit\r\n\r\nbody\r\n');
    expect(store.countSpoolFiles()).toBe(1);
    expect(store.holdsSpooledBody(file)).toBe(true);
  });

  it('upgrades a version-9 store: log rows written before read as they did, new rows keep only what the columns do not, and no address index is paid', () => {
    const { dir, db } = storeAtVersion(9);
    const old: SessionEvent = { type: 'mail', from: 'a@example.com', decision: { verdict: 'allow', code: 250, enhanced: '2.1.0', text: 'Accepted', rule: 'mail:accepted' }, at: '2026-01-01T00:00:00.000Z', server: 'Office', session: 'old0session00001', address: '192.0.2.1', user: null };
    db.prepare(`INSERT INTO session_events (at, server, session, address, type, user, verdict, code, rule, event_json) VALUES (?, ?, ?, ?, ?, ?, 'allow', 250, 'mail:accepted', ?)`)
      .run(old.at, old.server, old.session, old.address, old.type, old.user, JSON.stringify(old));
    db.close();
    const store = openStore({ dataDir: dir });
    stores.push(store);
    const fresh: SessionEvent = { ...old, at: '2026-01-01T00:00:01.000Z', session: 'new0session00002', user: 'alice', bytesIn: 40, bytesOut: 90 };
    store.appendEvents([fresh]);
    expect(store.queryEvents({ limit: 10, oldestFirst: true }).map(({ id: _id, ...e }) => e)).toEqual([old, fresh]);
    const raw = new Database(path.join(dir, STORE_FILE), { readonly: true });
    const json = JSON.parse((raw.prepare('SELECT event_json FROM session_events WHERE session = ?').get(fresh.session) as { event_json: string }).event_json) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(['bytesIn', 'bytesOut', 'decision', 'from']);
    expect((raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'session_events'").all() as Array<{ name: string }>).map((r) => r.name).sort())
      .toEqual(['session_events_at', 'session_events_session']);
    raw.close();
  });

  it('refuses relative folders (they would depend on where the server started) and makes old ones absolute', () => {
    const { dir, db } = storeAtVersion(MIGRATIONS.length);
    db.prepare(`INSERT INTO virtual_servers (name, bind_address, port, tls_port, fqdn, max_connections, connection_timeout_seconds, logging_enabled, state, access_json, messages_json, delivery_json, created_at, updated_at)
      VALUES ('Office', '127.0.0.1', 2525, NULL, 'mail.example.com', 100, 120, 1, 'stopped', ?, ?, ?, 'now', 'now')`).run(
      JSON.stringify(DEFAULT_ACCESS), JSON.stringify({ ...DEFAULT_MESSAGES, badmailFolder: 'mail/badmail' }), JSON.stringify({ ...DEFAULT_DELIVERY, dropFolder: 'mail/drop' }));
    db.close();
    const store = openStore({ dataDir: dir });
    stores.push(store);
    expect(store.getServer('Office').delivery.dropFolder).toBe(path.resolve('mail/drop'));
    expect(store.getServer('Office').messages.badmailFolder).toBe(path.resolve('mail/badmail'));
    expect(store.getServer('Office').delivery.pickupFolder).toBe(''); // absent before: still off
    expect(() => store.updateServer('Office', { delivery: { dropFolder: 'drop' } })).toThrow(/delivery\.dropFolder: must be a full path/);
    expect(() => store.updateServer('Office', { delivery: { pickupFolder: '../pickup' } })).toThrow(/must be a full path/);
    for (const ok of ['/srv/mail/drop', 'C:\\Mail\\Drop', '\\\\fileserver\\mail\\drop']) {
      expect(store.updateServer('Office', { delivery: { dropFolder: ok } }).delivery.dropFolder).toBe(ok);
    }
  });
});

describe('spool file digests', () => {
  it('digests a path the same whole or as folder then name, finds exactly the digests it holds, and tells files apart', async () => {
    const { digestFrom, digestStart, hasDigest, pathDigest } = await import('../../server/store/queue-tables');
    const folder = path.join(os.tmpdir(), 'spool', 'queue');
    const names = Array.from({ length: 20_000 }, (_, i) => `MX1NHY${i.toString(36).toUpperCase()}-${(i * 2654435761 % 2 ** 32).toString(16).toUpperCase()}${i % 2 ? '.eml' : '.batch'}`);
    const start = digestStart(path.join(folder, path.sep));
    for (const name of names.slice(0, 100)) expect(digestFrom(start, name)).toBe(pathDigest(path.join(folder, name)));
    const digests = names.map((name) => pathDigest(path.join(folder, name)));
    expect(new Set(digests).size).toBe(names.length);
    for (const d of digests) expect(Number.isSafeInteger(d)).toBe(true);
    const held = Float64Array.from(digests.slice(0, 10_000)).sort();
    expect(digests.slice(0, 10_000).every((d) => hasDigest(held, d))).toBe(true);
    expect(digests.slice(10_000).some((d) => hasDigest(held, d))).toBe(false);
  });
});

describe('queue pages', () => {
  it('pages oldest first with a cursor, and each status filter finds exactly what queueStatus() calls it', async () => {
    const { queueStatus } = await import('../../server/admin');
    const { store } = newStore();
    const ids: string[] = [];
    const at = (i: number) => new Date(Date.UTC(2026, 10, 29, 8, 0, i)).toISOString();
    store.insertMessages(Array.from({ length: 12 }, (_, i) => {
      const id = `M${String(i).padStart(2, '0')}`;
      ids.push(id);
      // Two messages share a second: the id breaks the tie, so no page repeats or skips one.
      return { id, serverName: 'Office', receivedAt: at(i === 5 ? 4 : i), mailFrom: 'a@example.com', size: 10, clientAddress: '127.0.0.1', authUser: null,
        spoolPath: `/spool/${id}.eml`, bodyOffset: 0, bodyLength: null, recipients: [{ address: `r${i}@remote.test`, domain: 'remote.test', route: 'remote' as const }] };
    }));
    store.deferRecipients('M01', ['r1@remote.test'], '451 4.4.1 try later', at(100));
    store.deferRecipients('M02', ['r2@remote.test'], '454 4.7.0 Sign-in to the smart host needed (not signed in yet)', at(100));
    store.recordDelivery('M03', ['r3@remote.test'], { state: 'delivered', reply: '250 ok' });
    store.recordDelivery('M04', ['r4@remote.test'], { state: 'failed', reply: '550 no' });
    store.setMessageState('M06', 'freeze');

    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = store.queuePage({}, 5, after);
      seen.push(...page.entries.map((e) => e.id));
      after = page.next;
      if (!after) break;
    }
    expect(seen).toEqual(['M00', 'M01', 'M02', 'M03', 'M04', 'M05', 'M06', 'M07', 'M08', 'M09', 'M10', 'M11']);
    // By position, as the console's scrolled list asks: the same order, and nothing past the end.
    expect(store.queuePage({}, 4, null, 4).entries.map((e) => e.id)).toEqual(['M04', 'M05', 'M06', 'M07']);
    expect(store.queuePage({}, 4, null, 10)).toEqual({ entries: [expect.objectContaining({ id: 'M10' }), expect.objectContaining({ id: 'M11' })], next: null });
    expect(store.queuePage({}, 4, null, 12).entries).toEqual([]);
    expect(store.queuePage({ state: 'queued' }, 2, null, 3).entries.map((e) => e.id)).toEqual(['M05', 'M07']);

    const all = store.listQueue();
    for (const status of ['queued', 'retrying', 'waiting-for-sign-in', 'frozen', 'delivered', 'failed'] as const) {
      const expected = all.filter((m) => queueStatus(m) === status).map((m) => m.id);
      // Both plans: from the tried recipients (few here), and the walk of the queue in order (as with many).
      expect(store.queuePage({ status }, 1000, null).entries.map((e) => e.id), status).toEqual(expected);
      expect(store.queuePage({ status }, 1000, null, 0, 0).entries.map((e) => e.id), `${status}, walking`).toEqual(expected);
    }
    expect(store.queueDepth().byState).toEqual({ queued: 9, frozen: 1, done: 2 });
  });

  it('finds the few retrying or failed messages of a long queue from the tried recipients, not by walking the queue', () => {
    const { store, dir } = newStore();
    const at = (i: number) => new Date(Date.UTC(2026, 10, 29, 8, 0, 0, i)).toISOString();
    store.insertMessages(Array.from({ length: 3000 }, (_, i) => ({ id: `L${String(i).padStart(4, '0')}`, serverName: 'Office', receivedAt: at(i), mailFrom: 'a@example.com', size: 10,
      clientAddress: '127.0.0.1', authUser: null, spoolPath: `/spool/L${i}.eml`, bodyOffset: 0, bodyLength: null, recipients: [{ address: `r${i}@remote.test`, domain: 'remote.test', route: 'remote' as const }] })));
    expect(store.queuePage({ status: 'retrying' }, 100, null)).toEqual({ entries: [], next: null });
    for (const i of [2900, 17, 1500]) store.deferRecipients(`L${String(i).padStart(4, '0')}`, [`r${i}@remote.test`], '451 4.4.1 try later', at(9000));
    const first = store.queuePage({ status: 'retrying' }, 2, null);
    expect(first.entries.map((e) => e.id)).toEqual(['L0017', 'L1500']);
    expect(store.queuePage({ status: 'retrying' }, 2, first.next).entries.map((e) => e.id)).toEqual(['L2900']);
    expect(store.queuePage({ status: 'retrying' }, 2, null, 2).entries.map((e) => e.id)).toEqual(['L2900']);
    expect(store.queuePage({ status: 'failed' }, 10, null).entries).toEqual([]);
    // SQLite answers both the count and the page from the partial index (not a scan of recipients or messages).
    const db = new Database(path.join(dir, STORE_FILE), { readonly: true });
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    const tried = "(state = 'failed' OR (state = 'queued' AND attempts > 0))";
    expect(plan(`SELECT COUNT(*) FROM recipients INDEXED BY recipients_tried WHERE ${tried}`)).toMatch(/USING COVERING INDEX recipients_tried/);
    expect(plan(`SELECT m.id FROM (SELECT DISTINCT message_id FROM recipients INDEXED BY recipients_tried WHERE ${tried}) t CROSS JOIN messages m ON m.id = t.message_id ORDER BY m.received_at`))
      .toMatch(/SCAN recipients USING COVERING INDEX recipients_tried.*SEARCH m USING INDEX sqlite_autoindex_messages_1/);
    db.close();
  });
});
