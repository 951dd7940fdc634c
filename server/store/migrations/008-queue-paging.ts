// Migration 8: a queue of a million messages is paged (oldest first, by received time and id)
// from an index instead of sorted in full, and recovery checks spool files by path without
// loading every row.
import type { Database } from 'better-sqlite3';

export const version = 8;
export const name = 'queue paging and spool path indexes';

export function up(db: Database): void {
  db.exec(`
    CREATE INDEX messages_page ON messages(received_at, id);
    CREATE INDEX messages_state_page ON messages(state, received_at, id);
    CREATE INDEX messages_spool_path ON messages(spool_path);
  `);
}
