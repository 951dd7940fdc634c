// Migration 11: the recipients that have been tried (a deferral or a failure). The Queues page's
// status filters "retrying", "waiting for sign-in" and "failed" match only messages with such a
// recipient; with this partial index they start from those few instead of walking a queue of a
// million to find none. New mail is not in it (nothing tried yet): accepting pays nothing for it.
// It holds the columns of its condition too, so counting and listing never read the table.
import type { Database } from 'better-sqlite3';

export const version = 11;
export const name = 'tried recipients';

export function up(db: Database): void {
  db.exec("CREATE INDEX recipients_tried ON recipients(message_id, state, attempts) WHERE state = 'failed' OR (state = 'queued' AND attempts > 0);");
}
