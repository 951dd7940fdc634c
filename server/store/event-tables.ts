// The persisted live log: appended in batches, queried through the shared log view, pruned by age
// and count.
import type { SessionEvent } from '../contract/events';
import { matchesLogView } from '../contract/log-view';
import type { EventQuery } from './records';
import { QueueTables } from './queue-tables';

/** The persisted live log. */
export class EventTables extends QueueTables {
  deleteEventsOf(serverName: string): number {
    return this.db.prepare('DELETE FROM session_events WHERE server = ?').run(serverName).changes;
  }


  // ── session log ────────────────────────────────────────────────────────────────────────

  /**
   * Append events in one transaction (the log writer batches them), EVENT_ROWS_PER_INSERT rows a
   * statement: six events per message, and one statement per row cost a fifth more.
   */
  appendEvents(events: readonly SessionEvent[]): void {
    const one = this.stmt(`INSERT INTO session_events (${EVENT_INSERT_COLUMNS}) VALUES ${EVENT_ROW_VALUES}`);
    const many = this.stmt(`INSERT INTO session_events (${EVENT_INSERT_COLUMNS}) VALUES ${Array(EVENT_ROWS_PER_INSERT).fill(EVENT_ROW_VALUES).join(', ')}`);
    // The log is a record, not a promise to a client: no fsync of its own.
    this.relaxedTransaction(() => {
      let next = 0;
      const values: unknown[] = [];
      for (; next + EVENT_ROWS_PER_INSERT <= events.length; next += EVENT_ROWS_PER_INSERT) {
        values.length = 0;
        for (let i = next; i < next + EVENT_ROWS_PER_INSERT; i++) pushEventRow(values, events[i] as SessionEvent);
        many.run(values);
      }
      for (; next < events.length; next++) {
        values.length = 0;
        pushEventRow(values, events[next] as SessionEvent);
        one.run(values);
      }
    });
  }


  /**
   * Events by the contract's filter (log-view.ts): exact fields narrow the SQL query, the rest
   * (parts of an address, user or line) is the same predicate the live log applies on screen,
   * so the store returns exactly the rows the console shows.
   */
  queryEvents(filter: EventQuery): Array<SessionEvent & { id: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => { where.push(sql); params.push(value); };
    if (filter.server) add('server = ? COLLATE NOCASE', filter.server);
    if (filter.verdict) add('verdict = ?', filter.verdict);
    if (filter.type) add('type = ?', filter.type);
    if (filter.session) add('session = ?', filter.session);
    if (filter.from) add('at >= ?', filter.from);
    if (filter.to) add('at <= ?', filter.to);
    const order = filter.oldestFirst ? 'ASC' : 'DESC';
    const needsPredicate = Boolean(filter.address || filter.user || filter.text || filter.verdict);
    const batch = needsPredicate ? Math.max(filter.limit * 4, 2000) : filter.limit;
    const results: Array<SessionEvent & { id: number }> = [];
    let cursor = filter.beforeId ?? null;
    let after: number | null = filter.afterId ?? null;
    for (;;) {
      const page = [...where, ...(filter.oldestFirst ? (after !== null ? ['id > ?'] : []) : (cursor !== null ? ['id < ?'] : []))];
      const pageParams = [...params, ...(filter.oldestFirst ? (after !== null ? [after] : []) : (cursor !== null ? [cursor] : []))];
      const rows = this.db.prepare(`SELECT ${EVENT_COLUMNS} FROM session_events ${page.length ? `WHERE ${page.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ?`)
        .all(...pageParams, batch) as EventRow[];
      for (const row of rows) {
        const event = readEvent(row);
        if (!needsPredicate || matchesLogView(event, filter)) results.push(event);
        if (results.length >= filter.limit) return results;
      }
      if (rows.length < batch) return results;
      const last = rows[rows.length - 1]?.id ?? 0;
      if (filter.oldestFirst) after = last;
      else cursor = last;
    }
  }


  /** Delete events older than the cut-off, then the oldest beyond maxEvents. Returns rows deleted. */
  pruneEvents(olderThan: string, maxEvents: number): number {
    let deleted = this.db.prepare('DELETE FROM session_events WHERE at < ?').run(olderThan).changes;
    const newestKept = this.db.prepare('SELECT id FROM session_events ORDER BY id DESC LIMIT 1 OFFSET ?').get(maxEvents - 1) as { id: number } | undefined;
    if (newestKept) deleted += this.db.prepare('DELETE FROM session_events WHERE id < ?').run(newestKept.id).changes;
    return deleted;
  }


  countEvents(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM session_events').get() as { n: number }).n;
  }

}

const EVENT_COLUMNS = 'id, at, server, session, address, type, user, event_json';
interface EventRow { id: number; at: string; server: string; session: string; address: string; type: SessionEvent['type']; user: string | null; event_json: string }

/** A logged event: the columns, and the rest from the JSON (rows before migration 10 hold the whole event there; the same values). */
function readEvent(row: EventRow): SessionEvent & { id: number } {
  const rest = JSON.parse(row.event_json) as Partial<SessionEvent>;
  return { ...rest, at: row.at, server: row.server, session: row.session, address: row.address, type: row.type, user: row.user, id: row.id } as SessionEvent & { id: number };
}


const EVENT_INSERT_COLUMNS = 'at, server, session, address, type, user, verdict, code, rule, event_json';
const EVENT_ROW_VALUES = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const EVENT_ROWS_PER_INSERT = 16;

/** An event's columns, in EVENT_INSERT_COLUMNS order; the JSON holds what the columns do not (readEvent puts them back). */
function pushEventRow(values: unknown[], e: SessionEvent): void {
  const decision = 'decision' in e ? e.decision : undefined;
  const { at, server, session, address, type, user, ...rest } = e;
  values.push(at, server, session, address, type, user, decision?.verdict ?? null, decision?.code ?? null, decision?.rule ?? null, JSON.stringify(rest));
}
