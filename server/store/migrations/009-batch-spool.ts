// Migration 9: small messages accepted together share one spool file (group commit), so a row
// says how long its message is in that file (NULL: to the end of its own file, as before), and
// the spool-path index also answers "does this file still hold a message to deliver?". Every
// index on messages is paid on each accepted message: messages_state duplicated the first
// columns of messages_state_page, and only finished messages need messages_finished.
import type { Database } from 'better-sqlite3';

export const version = 9;
export const name = 'shared spool files (group commit)';

export function up(db: Database): void {
  db.exec(`
    ALTER TABLE messages ADD COLUMN body_length INTEGER;
    DROP INDEX messages_spool_path;
    CREATE INDEX messages_spool_body ON messages(spool_path, body);
    DROP INDEX messages_state;
    DROP INDEX messages_finished;
    CREATE INDEX messages_finished ON messages(state, body, finished_at) WHERE state = 'done';
  `);
}
