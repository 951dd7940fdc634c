// The queue index: accepted messages and their recipients, delivery outcomes, retention of
// finished records. The message bodies live in the spool (server/spool/).
import { AdminError } from '../contract/errors';
import type { AcceptedMessage, MessageBody, QueueEntry, MessageRow, RecipientRow } from './records';
import { ServerTables } from './server-tables';

/** The queue index, delivery outcomes and history. */
export class QueueTables extends ServerTables {
  // ── queue ──────────────────────────────────────────────────────────────────────────────

  /**
   * Index accepted messages in one transaction. The spool files (envelope included) are already
   * durable; after a crash the queue is rebuilt from them, so this commit need not fsync.
   */
  insertMessages(batch: readonly AcceptedMessage[]): void {
    // Positional parameters: binding by name from an object cost more, once per accepted message.
    const insertMessage = this.stmt(`INSERT OR IGNORE INTO messages (id, server_name, received_at, mail_from, size, client_address, auth_user, spool_path, body_offset, body_length, state)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued')`);
    const insertRecipient = this.stmt(`INSERT OR IGNORE INTO recipients (message_id, address, domain, route, state) VALUES (?, ?, ?, ?, 'queued')`);
    this.relaxedTransaction(() => {
      for (const m of batch) {
        insertMessage.run(m.id, m.serverName, m.receivedAt, m.mailFrom, m.size, m.clientAddress, m.authUser ?? null, m.spoolPath, m.bodyOffset, m.bodyLength ?? null);
        for (const rcpt of m.recipients) insertRecipient.run(m.id, rcpt.address, rcpt.domain, rcpt.route);
      }
    });
  }


  /** Messages, oldest first; by state, and by destination: a recipient domain, or "local" / "remote". */
  listQueue(filter: { state?: QueueEntry['state']; destination?: string } = {}): QueueEntry[] {
    const destination = filter.destination?.trim().toLowerCase() || null;
    const rows = this.db.prepare(`SELECT * FROM messages m WHERE (@state IS NULL OR m.state = @state)
      AND (@destination IS NULL OR EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id
        AND (r.domain = @destination OR r.route = @destination OR r.domain LIKE '%.' || @destination)))
      ORDER BY m.received_at`).all({ state: filter.state ?? null, destination }) as MessageRow[];
    return rows.map((row) => this.queueEntryFromRow(row));
  }


  /**
   * One page of the queue, oldest first, filtered in SQL (state, status, destination), after a
   * cursor ("receivedAt id" of the last message of the previous page) or from a position (`skip`,
   * for the console's scrolled list: an index walk, about 40 ms at a million). Only the page's rows
   * are loaded, whatever the queue's length; `next` is the cursor of the following page, or null.
   */
  queuePage(filter: { state?: QueueEntry['state']; status?: QueueStatusFilter; destination?: string }, limit: number, after: string | null, skip = 0, sparseBelow = SPARSE_PLAN_BELOW): { entries: QueueEntry[]; next: string | null } {
    const destination = filter.destination?.trim().toLowerCase() || null;
    const [afterAt, afterId] = after ? [after.slice(0, after.indexOf(' ')), after.slice(after.indexOf(' ') + 1)] : [null, null];
    const status = filter.status ?? 'any';
    let messages = 'messages m';
    if (TRIED_STATUSES.has(status)) {
      // Only messages with a tried recipient can match: none, and the answer is known at once;
      // a few, and the page starts from them (sorted) instead of walking the whole queue. Many
      // (the smart host down for a weekend), and the walk in order finds a page's worth at once.
      const tried = (this.stmt(`SELECT COUNT(*) AS n FROM recipients INDEXED BY recipients_tried WHERE ${TRIED_SQL}`).get() as { n: number }).n;
      if (tried === 0) return { entries: [], next: null };
      if (tried < sparseBelow) messages = `(SELECT DISTINCT message_id FROM recipients INDEXED BY recipients_tried WHERE ${TRIED_SQL}) t CROSS JOIN messages m ON m.id = t.message_id`;
    }
    const rows = this.stmt(`SELECT m.* FROM ${messages} WHERE (@state IS NULL OR m.state = @state)
      AND (@destination IS NULL OR EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id
        AND (r.domain = @destination OR r.route = @destination OR r.domain LIKE '%.' || @destination)))
      AND (@afterAt IS NULL OR m.received_at > @afterAt OR (m.received_at = @afterAt AND m.id > @afterId))
      AND ${STATUS_SQL[status]}
      ORDER BY m.received_at, m.id LIMIT @limit OFFSET @skip`).all({ state: filter.state ?? null, destination, afterAt, afterId, limit: limit + 1, skip }) as MessageRow[];
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { entries: page.map((row) => this.queueEntryFromRow(row)), next: rows.length > limit && last ? `${last.received_at} ${last.id}` : null };
  }

  /** The message, or a not-found error the CLI and the console show as is. */
  requireMessage(id: string): QueueEntry {
    const message = this.getMessage(id);
    if (!message) throw new AdminError('not-found', `no message ${id} in the queue`, 'id');
    return message;
  }


  getMessage(id: string): QueueEntry | null {
    const row = this.db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
    return row ? this.queueEntryFromRow(row) : null;
  }


  protected queueEntryFromRow(row: MessageRow): QueueEntry {
    const recipients = this.db.prepare('SELECT * FROM recipients WHERE message_id = ? ORDER BY address').all(row.id) as RecipientRow[];
    return {
      id: row.id, serverName: row.server_name, receivedAt: row.received_at, mailFrom: row.mail_from, size: row.size,
      clientAddress: row.client_address, authUser: row.auth_user, spoolPath: row.spool_path, bodyOffset: row.body_offset, bodyLength: row.body_length, state: row.state,
      body: row.body, finishedAt: row.finished_at,
      recipients: recipients.map((r) => ({ address: r.address, domain: r.domain, route: r.route, state: r.state, attempts: r.attempts, lastReply: r.last_reply, nextAttemptAt: r.next_attempt_at, delayNotified: r.delay_notified === 1 })),
    };
  }


  /** Messages with local recipients still to deliver, oldest first. */
  dueLocalMessages(limit: number): QueueEntry[] {
    // From the recipients_due index (state, route): a long queue of remote mail is not walked to find local mail.
    const rows = this.stmt(`SELECT DISTINCT r.message_id AS id FROM recipients r JOIN messages m ON m.id = r.message_id
      WHERE r.state = 'queued' AND r.route = 'local' AND m.state = 'queued' LIMIT ?`).all(limit) as Array<{ id: string }>;
    return rows.map((row) => this.getMessage(row.id)).filter((m): m is QueueEntry => m !== null).sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }


  /**
   * Messages with remote recipients due now (never tried first, then by when they became due);
   * frozen messages and held servers wait. Both parts walk the recipients_due index from its
   * start and stop at `limit`: a long queue of mail deferred until later costs nothing here.
   */
  dueRemoteMessages(nowIso: string, limit: number, heldServers: readonly string[] = []): QueueEntry[] {
    const held = JSON.stringify(heldServers);
    const ids = new Set<string>();
    const fresh = this.stmt(`SELECT DISTINCT r.message_id AS id FROM recipients r JOIN messages m ON m.id = r.message_id
      WHERE r.state = 'queued' AND r.route = 'remote' AND r.next_attempt_at IS NULL AND m.state = 'queued'
        AND m.server_name NOT IN (SELECT value FROM json_each(?)) LIMIT ?`).all(held, limit) as Array<{ id: string }>;
    for (const row of fresh) ids.add(row.id);
    if (ids.size < limit) {
      const due = this.stmt(`SELECT r.message_id AS id FROM recipients r JOIN messages m ON m.id = r.message_id
        WHERE r.state = 'queued' AND r.route = 'remote' AND r.next_attempt_at IS NOT NULL AND r.next_attempt_at <= ? AND m.state = 'queued'
          AND m.server_name NOT IN (SELECT value FROM json_each(?)) ORDER BY r.next_attempt_at LIMIT ?`).all(nowIso, held, limit * 2) as Array<{ id: string }>;
      for (const row of due) {
        if (ids.size >= limit) break;
        ids.add(row.id);
      }
    }
    return [...ids].map((id) => this.getMessage(id)).filter((m): m is QueueEntry => m !== null);
  }


  /** A temporary failure: count the attempt and schedule the next one. */
  deferRecipients(messageId: string, addresses: readonly string[], reply: string, nextAttemptAt: string): void {
    const update = this.stmt('UPDATE recipients SET attempts = attempts + 1, last_reply = ?, next_attempt_at = ? WHERE message_id = ? AND address = ?');
    this.transaction(() => { for (const address of addresses) update.run(reply, nextAttemptAt, messageId, address); });
  }


  /**
   * Replies of remote recipients still waiting after an attempt (the latest RECENT_REPLIES by next
   * attempt) or failed since the cut-off, with how many had each (at most 50 replies). Bounded:
   * the status bar asks every few seconds, whatever the queue's length.
   */
  recentRemoteReplies(cutoff: string): Array<{ reply: string; recipients: number; waiting: boolean }> {
    return (this.stmt(`SELECT reply, COUNT(*) AS recipients, waiting FROM (
        SELECT * FROM (SELECT r.last_reply AS reply, 1 AS waiting FROM recipients r WHERE r.state = 'queued' AND r.route = 'remote' AND r.next_attempt_at IS NOT NULL
          ORDER BY r.next_attempt_at DESC LIMIT ${RECENT_REPLIES})
        UNION ALL
        SELECT * FROM (SELECT r.last_reply AS reply, 0 AS waiting FROM recipients r JOIN messages m ON m.id = r.message_id
          WHERE r.state = 'failed' AND r.route = 'remote' AND m.finished_at >= ? LIMIT ${RECENT_REPLIES}))
      WHERE reply IS NOT NULL GROUP BY reply, waiting LIMIT 50`).all(cutoff) as Array<{ reply: string; recipients: number; waiting: number }>).map((row) => ({ ...row, waiting: row.waiting === 1 }));
  }

  /** Held back by a route's cap: due again later, without counting an attempt. */
  postponeRecipients(messageId: string, addresses: readonly string[], nextAttemptAt: string): void {
    const update = this.stmt('UPDATE recipients SET next_attempt_at = ? WHERE message_id = ? AND address = ?');
    this.transaction(() => { for (const address of addresses) update.run(nextAttemptAt, messageId, address); });
  }

  /** The sender was told these recipients are delayed; they are not told again. */
  markDelayNotified(messageId: string, addresses: readonly string[]): void {
    const update = this.stmt('UPDATE recipients SET delay_notified = 1 WHERE message_id = ? AND address = ?');
    this.transaction(() => { for (const address of addresses) update.run(messageId, address); });
  }


  /** Freeze (no attempts until thawed), thaw, or retry now (every queued recipient due at once). */
  setMessageState(id: string, action: 'freeze' | 'thaw' | 'retry'): void {
    const message = this.requireMessage(id);
    if (message.state === 'done') throw new AdminError('conflict', `message ${id} is already done`, 'id');
    this.transaction(() => {
      if (action === 'freeze') this.db.prepare(`UPDATE messages SET state = 'frozen' WHERE id = ?`).run(id);
      else this.db.prepare(`UPDATE messages SET state = 'queued' WHERE id = ?`).run(id);
      if (action === 'retry') this.db.prepare(`UPDATE recipients SET next_attempt_at = NULL WHERE message_id = ? AND state = 'queued'`).run(id);
    });
  }


  /** Remove a message from the queue (its spool file is the caller's to delete). */
  deleteMessage(id: string): QueueEntry {
    const message = this.requireMessage(id);
    this.db.prepare('DELETE FROM messages WHERE id = ?').run(id);
    return message;
  }


  /** Record the outcome for some recipients; a message with none left queued is done. */
  recordDelivery(messageId: string, addresses: readonly string[], outcome: { state: 'delivered' | 'failed'; reply: string }): void {
    const update = this.db.prepare('UPDATE recipients SET state = ?, attempts = attempts + 1, last_reply = ? WHERE message_id = ? AND address = ?');
    this.transaction(() => {
      for (const address of addresses) update.run(outcome.state, outcome.reply, messageId, address);
      const open = this.db.prepare(`SELECT COUNT(*) AS n FROM recipients WHERE message_id = ? AND state = 'queued'`).get(messageId) as { n: number };
      if (open.n === 0) this.stmt(`UPDATE messages SET state = 'done', finished_at = ? WHERE id = ?`).run(this.stamp(), messageId);
    });
  }


  // ── queue history and retention ────────────────────────────────────────────────────────

  /** Finished messages whose body is still in the spool (delivery just ended, or a crash came in between). */
  finishedInSpool(limit: number): QueueEntry[] {
    const rows = this.stmt(`SELECT * FROM messages WHERE state = 'done' AND body = 'spool' LIMIT ?`).all(limit) as MessageRow[];
    return rows.map((row) => this.queueEntryFromRow(row));
  }


  /** Record where a finished message's body went (see retention.ts for the order); a kept copy is a file of its own. */
  setMessageBody(id: string, body: MessageBody, keptCopy?: string): void {
    if (keptCopy === undefined) this.stmt('UPDATE messages SET body = ? WHERE id = ?').run(body, id);
    else this.stmt('UPDATE messages SET body = ?, spool_path = ?, body_offset = 0, body_length = NULL WHERE id = ?').run(body, keptCopy, id);
  }


  /** Kept copies of messages finished before the cut-off. */
  keptCopiesBefore(cutoff: string, limit: number): Array<{ id: string; spoolPath: string }> {
    return (this.stmt(`SELECT id, spool_path FROM messages WHERE state = 'done' AND body = 'kept' AND finished_at < ? LIMIT ?`)
      .all(cutoff, limit) as Array<{ id: string; spool_path: string }>).map((r) => ({ id: r.id, spoolPath: r.spool_path }));
  }


  /** Forget finished messages (records only: their bodies are gone) older than the cut-off. */
  pruneHistory(cutoff: string): number {
    return this.stmt(`DELETE FROM messages WHERE state = 'done' AND body = 'removed' AND finished_at < ?`).run(cutoff).changes;
  }


  /** What deleting a server takes with it. */
  serverDependents(serverName: string): { queued: number; finished: number; events: number } {
    const count = (sql: string) => (this.db.prepare(sql).get(serverName) as { n: number }).n;
    return {
      queued: count(`SELECT COUNT(*) AS n FROM messages WHERE server_name = ? AND state != 'done'`),
      finished: count(`SELECT COUNT(*) AS n FROM messages WHERE server_name = ? AND state = 'done'`),
      events: count('SELECT COUNT(*) AS n FROM session_events WHERE server = ?'),
    };
  }


  messageIdsOf(serverName: string): string[] {
    return (this.db.prepare('SELECT id FROM messages WHERE server_name = ?').all(serverName) as Array<{ id: string }>).map((r) => r.id);
  }


  /** Messages by state and the oldest still queued, from the state index (no rows are loaded). */
  queueDepth(): { byState: Record<QueueEntry['state'], number>; oldestQueuedAt: string | null } {
    const byState: Record<QueueEntry['state'], number> = { queued: 0, frozen: 0, done: 0 };
    for (const row of this.stmt('SELECT state, COUNT(*) AS n FROM messages GROUP BY state').all() as Array<{ state: QueueEntry['state']; n: number }>) byState[row.state] = row.n;
    const oldest = this.stmt("SELECT MIN(received_at) AS at FROM messages WHERE state = 'queued'").get() as { at: string | null };
    return { byState, oldestQueuedAt: oldest.at };
  }


  /** Messages that failed (a report was sent, or the badmail folder) and finished after the cut-off. */
  countFailedSince(cutoff: string): number {
    return (this.db.prepare(`SELECT COUNT(DISTINCT m.id) AS n FROM messages m JOIN recipients r ON r.message_id = m.id
      WHERE m.state = 'done' AND r.state = 'failed' AND m.finished_at >= ?`).get(cutoff) as { n: number }).n;
  }


  /** How many files in the spool's queue folder hold an unfinished message (from the index, no rows loaded). */
  countSpoolFiles(): number {
    return (this.stmt("SELECT COUNT(DISTINCT spool_path) AS n FROM messages WHERE body = 'spool'").get() as { n: number }).n;
  }

  /** Which of these spool files the index knows, and whether each still holds an unfinished message's body. */
  spoolFilesKnown(files: readonly string[]): Map<string, boolean> {
    if (files.length === 0) return new Map();
    const rows = this.stmt(`SELECT spool_path AS path, MAX(body = 'spool') AS holds FROM messages WHERE spool_path IN (${files.map(() => '?').join(', ')}) GROUP BY spool_path`)
      .all(...files) as Array<{ path: string; holds: number }>;
    return new Map(rows.map((r) => [r.path, r.holds === 1]));
  }

  /**
   * Every spool file the index names, as digests of its path (pathDigest), sorted for a binary
   * search and split by whether the file still holds an unfinished message's body: one walk of the
   * (spool_path, body) index, 8 bytes per file, where a lookup per file costs a B-tree probe each.
   */
  spoolFileDigests(): { holding: Float64Array; finished: Float64Array } {
    const holding: number[] = [];
    const finished: number[] = [];
    const rows = this.stmt("SELECT spool_path, MAX(body = 'spool') FROM messages GROUP BY spool_path").raw(true).iterate() as IterableIterator<[string, number]>;
    for (const [file, holds] of rows) (holds === 1 ? holding : finished).push(pathDigest(file));
    return { holding: Float64Array.from(holding).sort(), finished: Float64Array.from(finished).sort() };
  }

  /** Does this spool file still hold the body of a message that is not finished? */
  holdsSpooledBody(file: string): boolean {
    return this.stmt("SELECT 1 FROM messages WHERE spool_path = ? AND body = 'spool' LIMIT 1").get(file) !== undefined;
  }


  /**
   * The serving spool's open segments: the batch file it appends groups to, and files whose last
   * groups may not be indexed yet (spool.ts). Nothing else removes them, whatever the index says,
   * and after a crash they are read in full. In the store, so a CLI process sees them too.
   */
  openSpoolSegments(): string[] {
    const value = this.getMeta(OPEN_SEGMENTS_KEY);
    if (!value) return [];
    try {
      const files: unknown = JSON.parse(value);
      return Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string') : [];
    } catch {
      return [];
    }
  }


  /**
   * List a segment as open, or let some go: read and written under the write lock, so a CLI
   * process queueing a report beside a running serve keeps both processes' entries. Relaxed (no
   * fsync of its own), like the index commits: the write-ahead log keeps commits in order, so after
   * a crash either this change survived, or no index commit after it did — and a segment the
   * index does not know at all is read in full anyway.
   */
  changeOpenSpoolSegments(add: readonly string[], remove: readonly string[]): void {
    this.relaxedTransaction(() => {
      const gone = new Set(remove);
      const files = [...this.openSpoolSegments().filter((file) => !gone.has(file) && !add.includes(file)), ...add];
      this.setMeta(OPEN_SEGMENTS_KEY, JSON.stringify(files));
    });
  }


  /** Which of these message ids the index has (recovery of a segment's records). */
  knownMessageIds(ids: readonly string[]): Set<string> {
    const known = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      const rows = this.db.prepare(`SELECT id FROM messages WHERE id IN (${part.map(() => '?').join(', ')})`).raw(true).all(...part) as Array<[string]>;
      for (const [id] of rows) known.add(id);
    }
    return known;
  }


  /** After a new sign-in: the server's waiting remote recipients are due at once. */
  retryRemoteNow(serverName: string): number {
    return this.stmt(`UPDATE recipients SET next_attempt_at = NULL WHERE state = 'queued' AND route = 'remote'
      AND message_id IN (SELECT id FROM messages WHERE server_name = ? AND state = 'queued')`).run(serverName).changes;
  }

}

const OPEN_SEGMENTS_KEY = 'spool.open-segments';

/**
 * A 53-bit digest of a file's path (two 32-bit multiplicative hashes, one cut to 21 bits), exact
 * in a double. Two paths share one with a chance of about 1 in 9·10^15 per pair looked up.
 */
export function pathDigest(file: string): number {
  return digestFrom(digestStart(file), '');
}

/** The digest's state after a folder's path: pathDigest(folder + name) is digestFrom(digestStart(folder), name), without joining. */
export function digestStart(prefix: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < prefix.length; i++) [a, b] = digestStep(a, b, prefix.charCodeAt(i));
  return [a, b];
}

export function digestFrom([startA, startB]: readonly [number, number], rest: string): number {
  let a = startA;
  let b = startB;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) >>> 11);
}

function digestStep(a: number, b: number, c: number): [number, number] {
  const nextB = Math.imul(b ^ c, 0x5bd1e995);
  return [Math.imul(a ^ c, 0x01000193), nextB ^ (nextB >>> 15)];
}

/** Is the digest in the sorted array? */
export function hasDigest(sorted: Float64Array, digest: number): boolean {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const value = sorted[mid] as number;
    if (value === digest) return true;
    if (value < digest) low = mid + 1;
    else high = mid - 1;
  }
  return false;
}

/** How many of the latest waiting and failed recipients the status bar's explanations look at. */
export const RECENT_REPLIES = 2000;

/**
 * A queue status (admin-api.ts QUEUE_STATUSES) as SQL over a message row `m`, the same rules as
 * queueStatus() in admin.ts. The unary + keeps SQLite on the recipients' primary key (message_id)
 * instead of the state index, which would walk every queued recipient for each message.
 */
export type QueueStatusFilter = 'queued' | 'retrying' | 'waiting-for-sign-in' | 'frozen' | 'delivered' | 'failed' | 'any';
const WAITS_FOR_SIGN_IN_SQL = `EXISTS (SELECT 1 FROM recipients w WHERE w.message_id = m.id AND +w.state = 'queued' AND (w.last_reply LIKE '4__ 4.7.0 Sign-in to the smart host needed%'
  OR w.last_reply LIKE '4__ 4.7.0 No OAuth2 token yet%' OR w.last_reply LIKE '4__ 4.7.0 The smart host refused the sign-in%'))`;
const RETRIED_SQL = "EXISTS (SELECT 1 FROM recipients a WHERE a.message_id = m.id AND +a.state = 'queued' AND a.attempts > 0)";
const FAILED_SQL = "EXISTS (SELECT 1 FROM recipients f WHERE f.message_id = m.id AND +f.state = 'failed')";
/** Recipients deferred or failed: the partial index recipients_tried (migration 11), word for word (INDEXED BY needs it; left to itself SQLite splits the OR over recipients_due). */
const TRIED_SQL = "(state = 'failed' OR (state = 'queued' AND attempts > 0))";
/** Statuses only a message with a tried recipient can have. */
const TRIED_STATUSES: ReadonlySet<QueueStatusFilter> = new Set(['retrying', 'waiting-for-sign-in', 'failed']);
/** Below this many tried recipients a status page starts from them; above, it walks the queue in order. */
const SPARSE_PLAN_BELOW = 50_000;
const STATUS_SQL: Record<QueueStatusFilter, string> = {
  any: '1',
  frozen: "m.state = 'frozen'",
  delivered: `m.state = 'done' AND NOT ${FAILED_SQL}`,
  failed: `m.state = 'done' AND ${FAILED_SQL}`,
  'waiting-for-sign-in': `m.state = 'queued' AND ${WAITS_FOR_SIGN_IN_SQL}`,
  retrying: `m.state = 'queued' AND NOT ${WAITS_FOR_SIGN_IN_SQL} AND ${RETRIED_SQL}`,
  queued: `m.state = 'queued' AND NOT ${WAITS_FOR_SIGN_IN_SQL} AND NOT ${RETRIED_SQL}`,
};
