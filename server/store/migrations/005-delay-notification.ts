// Migration 5: remember which recipients the sender was already told about ("still trying" after
// the delay notification time), so a restart or the next retry does not tell them again.
import type { Database } from 'better-sqlite3';

export const version = 5;
export const name = 'delay notification sent';

export function up(db: Database): void {
  db.exec('ALTER TABLE recipients ADD COLUMN delay_notified INTEGER NOT NULL DEFAULT 0');
}
