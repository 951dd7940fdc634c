// Migration 4: pending certificate requests (a key waiting for its CA's answer).
import type { Database } from 'better-sqlite3';

export const version = 4;
export const name = 'certificate requests';

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE certificate_requests (
      name TEXT PRIMARY KEY,
      common_name TEXT NOT NULL,
      alt_names_json TEXT NOT NULL,
      key_spec TEXT NOT NULL,
      key_pem TEXT NOT NULL,
      csr_pem TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
  `);
}
