// Migration 9: small messages accepted together share one spool file (group commit), so a row
// says how long its message is in that file (NULL: to the end of its own file, as before), and
// the spool-path index also answers "does this file still hold a message to deliver?".
import type { Database } from 'better-sqlite3';

export const version = 9;
export const name = 'shared spool files (group commit)';

export function up(db: Database): void {
  db.exec(`
    ALTER TABLE messages ADD COLUMN body_length INTEGER;
    DROP INDEX messages_spool_path;
    CREATE INDEX messages_spool_body ON messages(spool_path, body);
  `);
}
