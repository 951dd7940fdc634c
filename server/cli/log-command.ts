// `relaydesk log`: the persisted live log from the command line, through the same filter as the
// console (contract/log-view.ts) and in the same formats: text lines (as `serve --verbose`
// prints them), W3C extended (IIS), CSV or JSON. --follow keeps printing new events.
import os from 'node:os';
import { AdminError } from '../contract/errors';
import { formatEventLine, type LogView } from '../contract/log-view';
import type { SessionEvent } from '../contract/events';
import { toCsv, toW3c } from '../log/export';
import type { Store } from '../store/store';

export const LOG_USAGE = `  log [--server NAME] [--client ADDR] [--user NAME] [--verdict allow|refuse|defer] [--since ISO|--last 10m]
      [--follow] [--format text|w3c|csv|json] [--limit N]   the live log: why was a client refused`;


const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export async function logCommand(store: Store, values: Record<string, unknown>, io: { out(line: string): void }, signal?: AbortSignal): Promise<number> {
  const text = (key: string) => (typeof values[key] === 'string' ? values[key] : undefined);
  const verdict = text('verdict');
  if (verdict !== undefined && !['allow', 'refuse', 'defer'].includes(verdict)) throw new AdminError('invalid', '--verdict takes allow, refuse or defer', 'verdict');
  const format = text('format') ?? 'text';
  if (!['text', 'w3c', 'csv', 'json'].includes(format)) throw new AdminError('invalid', '--format takes text, w3c, csv or json', 'format');
  let from = text('since');
  const last = text('last');
  if (last) {
    const match = /^(\d+)([smhd])$/.exec(last);
    if (!match) throw new AdminError('invalid', '--last takes a number and a unit: 30s, 10m, 2h or 7d', 'last');
    from = new Date(Date.now() - Number(match[1]) * (UNITS[match[2] ?? 'm'] ?? 60_000)).toISOString();
  } else if (from !== undefined && Number.isNaN(Date.parse(from))) {
    throw new AdminError('invalid', '--since takes an ISO time such as 2026-11-29T08:00:00Z', 'since');
  }
  const limit = Number(text('limit') ?? 1000);
  const view: LogView = { server: text('server'), address: text('client'), user: text('user'), verdict: verdict as LogView['verdict'], from: from ? new Date(from).toISOString() : undefined };
  // Newest `limit` matching events, printed oldest first.
  const events = store.queryEvents({ ...view, limit }).reverse();
  const bind = new Map(store.listServers().map((s) => [s.name, s.bindAddress === 'all' ? '-' : s.bindAddress]));
  const print = (batch: ReadonlyArray<SessionEvent & { id: number }>, header: boolean) => {
    if (format === 'json') for (const e of batch) io.out(JSON.stringify(e));
    else if (format === 'text') for (const e of batch) io.out(formatEventLine(e));
    else if (format === 'csv') io.out((header ? toCsv(batch) : toCsv(batch).split('\r\n').slice(1).join('\r\n')).trimEnd());
    else {
      const w3c = toW3c(batch, { computerName: os.hostname(), serverAddress: (s) => bind.get(s) ?? '-' }, new Date());
      io.out((header ? w3c : w3c.split('\r\n').filter((l) => !l.startsWith('#')).join('\r\n')).trimEnd());
    }
  };
  if (events.length > 0 || format === 'csv' || format === 'w3c') print(events, true);
  if (values.follow !== true) return 0;
  let lastId = events.at(-1)?.id ?? store.queryEvents({ limit: 1 })[0]?.id ?? 0;
  while (!signal?.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const fresh = store.queryEvents({ ...view, limit: 1000, oldestFirst: true, afterId: lastId });
    if (fresh.length === 0) continue;
    lastId = fresh.at(-1)?.id ?? lastId;
    print(fresh, false);
  }
  return 0;
}
