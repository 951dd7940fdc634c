// Migration 2: the live log, persisted. One row per session event; the full event as JSON plus
// the columns the log viewer filters on.
import type { Database } from 'better-sqlite3';

export const version = 2;
export const name = 'session log';

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE session_events (
      id INTEGER PRIMARY KEY,
      at TEXT NOT NULL,
      server TEXT NOT NULL,
      session TEXT NOT NULL,
      address TEXT NOT NULL,
      type TEXT NOT NULL,
      user TEXT,
      verdict TEXT,
      code INTEGER,
      rule TEXT,
      event_json TEXT NOT NULL
    );
    CREATE INDEX session_events_at ON session_events(at);
    CREATE INDEX session_events_session ON session_events(session, id);
    CREATE INDEX session_events_address ON session_events(address, id);
  `);
}
