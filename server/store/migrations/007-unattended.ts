// Migration 7: what running unattended for months needs. A message's body has a life of its own
// after final delivery (removed at once, or kept as a copy for some days) while its record stays
// as history; addresses a user signed in from successfully are remembered (the login throttle
// never blocks a user at a known-good address); a server's greeting text is a setting.
import type { Database } from 'better-sqlite3';
import { cramMd5Contexts, isCramMd5Contexts } from '../../auth/cram-md5';

export const version = 7;
export const name = 'message bodies after delivery, known login addresses, banner';

export function up(db: Database): void {
  db.exec(`
    ALTER TABLE messages ADD COLUMN body TEXT NOT NULL DEFAULT 'spool' CHECK (body IN ('spool', 'kept', 'removed'));
    ALTER TABLE messages ADD COLUMN finished_at TEXT;
    CREATE INDEX messages_finished ON messages(state, body, finished_at);
    CREATE TABLE login_addresses (
      user TEXT NOT NULL COLLATE NOCASE,
      address TEXT NOT NULL,
      last_success_at TEXT NOT NULL,
      PRIMARY KEY (user, address)
    );
    ALTER TABLE virtual_servers ADD COLUMN banner TEXT;
    ALTER TABLE users ADD COLUMN messages_per_hour INTEGER;
    ALTER TABLE users ADD COLUMN recipients_per_day INTEGER;
  `);
  // Messages already done before this version: their bodies are still in the spool; the
  // retention sweep at the next start removes them. Their finish time is unknown: use now.
  db.prepare(`UPDATE messages SET finished_at = ? WHERE state = 'done'`).run(new Date().toISOString());
  const users = db.prepare('SELECT id, cram_secret FROM users WHERE cram_secret IS NOT NULL').all() as Array<{ id: number; cram_secret: string }>;
  const update = db.prepare('UPDATE users SET cram_secret = ? WHERE id = ?');
  for (const user of users) if (!isCramMd5Contexts(user.cram_secret)) update.run(cramMd5Contexts(user.cram_secret), user.id);
}
