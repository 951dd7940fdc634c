// The store's foundation: one SQLite connection (WAL, synchronous=FULL), statements prepared
// once, transactions, migrations and the meta table. The table modules build on it.
import Database from 'better-sqlite3';
import { AdminError } from '../contract/errors';
import { MIGRATIONS } from './migrations';
import type { SecretBox } from '../oauth/secret-box';

/** The connection, prepared statements, transactions, migrations and the meta table. */
export class StoreBase {
  protected readonly statements = new Map<string, Database.Statement>();


  constructor(protected readonly db: Database.Database, protected readonly now: () => Date, protected readonly box: SecretBox) {}


  /** Prepared once, reused: hot paths (queue index, log, user lookups) must not re-parse SQL. */
  protected stmt(sql: string): Database.Statement {
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
  protected relaxedTransaction(work: () => void): void {
    if (this.db.inTransaction) return work(); // part of a durable transaction already
    // Cached statements: this runs once per accepted group and per log flush.
    this.stmt('PRAGMA synchronous = NORMAL').run();
    try {
      this.stmt('BEGIN IMMEDIATE').run();
      try {
        work();
        this.stmt('COMMIT').run();
      } catch (err) {
        if (this.db.inTransaction) this.stmt('ROLLBACK').run();
        throw err;
      }
    } finally {
      this.stmt('PRAGMA synchronous = FULL').run();
    }
  }


  close(): void {
    if (this.db.open) this.db.close();
  }


  isOpen(): boolean {
    return this.db.open;
  }


  /** The WAL size (pages) at which a commit on this connection checkpoints by itself (see checkpointer.ts). */
  setAutoCheckpoint(pages: number): void {
    this.db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(pages))}`);
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
    const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
    const newer = (current: number) => new AdminError('unavailable', `the store has schema version ${current}, newer than this Relaydesk understands (${latest}); upgrade Relaydesk`);
    const seen = this.schemaVersion();
    if (seen > latest) throw newer(seen);
    if (seen === latest) return; // the usual open: no write lock taken
    for (const migration of MIGRATIONS) {
      this.transaction(() => {
        // Read again under the write lock: two processes opening an old store migrate it once.
        const current = this.schemaVersion();
        if (current > latest) throw newer(current);
        if (migration.version <= current) return;
        migration.up(this.db);
        this.db.pragma(`user_version = ${migration.version}`);
      });
    }
  }


  protected stamp(): string {
    return this.now().toISOString();
  }


  getMeta(key: string): string | null {
    const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? row.value : null;
  }


  setMeta(key: string, value: string): void {
    this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }


  /**
   * Run several writes as one transaction (all or nothing). IMMEDIATE: the write lock is taken at
   * BEGIN, so a transaction that reads before it writes waits (busy timeout) for a running serve's
   * commit. A deferred one fails at once with "database is locked" when the other process commits
   * between its first read and its first write: SQLite cannot upgrade a stale snapshot.
   */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

}
