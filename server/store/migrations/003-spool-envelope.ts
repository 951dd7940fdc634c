// Migration 3: spool files start with an envelope line (so the queue can be rebuilt from the
// spool after a crash); the index records where the message itself begins.
import type { Database } from 'better-sqlite3';

export const version = 3;
export const name = 'spool envelope offset';

export function up(db: Database): void {
  db.exec('ALTER TABLE messages ADD COLUMN body_offset INTEGER NOT NULL DEFAULT 0');
}
