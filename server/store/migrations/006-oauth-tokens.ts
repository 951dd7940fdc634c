// Migration 6: OAuth2 sign-ins to smart hosts, one per virtual server. The refresh token is
// sealed (never stored in clear); access tokens live only in memory.
import type { Database } from 'better-sqlite3';

export const version = 6;
export const name = 'smart host OAuth2 sign-ins';

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE oauth_sign_ins (
      server_name TEXT PRIMARY KEY COLLATE NOCASE,
      account TEXT NOT NULL,
      refresh_token_sealed TEXT,
      signed_in_at TEXT NOT NULL,
      last_refresh_at TEXT,
      access_expires_at TEXT,
      needs_sign_in INTEGER NOT NULL DEFAULT 0,
      last_error TEXT
    );
  `);
}
