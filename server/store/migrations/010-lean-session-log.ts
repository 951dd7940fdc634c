// Migration 10: a leaner live log. Every index on session_events is paid on each logged event
// (six per message) and no query filters on address in SQL (address filters match parts of it,
// on the rows read), so session_events_address goes. Rows written from now on keep in event_json
// only what the columns do not hold; older rows keep the whole event and read the same.
import type { Database } from 'better-sqlite3';

export const version = 10;
export const name = 'leaner session log';

export function up(db: Database): void {
  db.exec('DROP INDEX IF EXISTS session_events_address;');
}
