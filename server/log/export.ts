// Export of the live log: the W3C extended log format IIS used for SMTP (the command in
// cs-method, the reply code in sc-status) and CSV. Input: events oldest first.
import type { SessionEvent } from '../contract/events';

export const W3C_FIELDS = 'date time c-ip cs-username s-sitename s-computername s-ip s-port cs-method cs-uri-query sc-status sc-win32-status sc-bytes cs-bytes time-taken cs-version cs-host cs(User-Agent) cs(Cookie) cs(Referer)';

/** W3C fields may not contain spaces: IIS wrote them as "+". */
function w3c(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value).replace(/\s+/g, '+');
}

function command(e: SessionEvent): { method: string; query: string; status: number | null; csBytes: number; timeTaken: number; agent: string } {
  const none = { csBytes: 0, timeTaken: 0, agent: '-' };
  switch (e.type) {
    case 'connect': return { ...none, method: 'CONNECT', query: e.decision.rule, status: e.decision.code };
    case 'ehlo': return { ...none, method: e.helo ? 'HELO' : 'EHLO', query: e.hostname, status: 250, agent: e.hostname };
    case 'starttls': return e.protocol
      ? { ...none, method: 'STARTTLS', query: `${e.protocol} ${e.cipher}`, status: e.decision.verdict === 'allow' ? 220 : e.decision.code }
      : { ...none, method: 'STARTTLS', query: e.decision.rule, status: null }; // the handshake failed: no reply was sent
    case 'auth': return { ...none, method: 'AUTH', query: e.mechanism, status: e.outcome === 'success' ? 235 : (e.decision?.code ?? 535) };
    case 'mail': return { ...none, method: 'MAIL', query: `FROM:<${e.from}>`, status: e.decision.code };
    case 'rcpt': return { ...none, method: 'RCPT', query: `TO:<${e.to}>`, status: e.decision.code };
    case 'data': return { ...none, method: 'DATA', query: e.queueId ?? e.decision.rule, status: e.decision.code, csBytes: e.size };
    // A refusal of the library's own: its verb (the whole command is in the CSV), the rule as the query.
    case 'reply': return { ...none, method: e.command?.split(' ')[0] ?? '-', query: e.decision.rule, status: e.decision.code };
    // The connection ended: whether with QUIT (221) or not is not recorded, so no status.
    case 'close': return { ...none, method: 'QUIT', query: '-', status: null, timeTaken: e.durationMs };
  }
}

/**
 * IIS's SMTP log: one line per command with its reply code (sc-status), the bytes each way for
 * that command (cs-bytes, sc-bytes: the difference of the connection's counters since the
 * previous line) and the time it took (time-taken, ms since the previous line). '-' only where a
 * value does not exist (no user before AUTH, no port for a line without a connect).
 */
export function toW3c(events: readonly SessionEvent[], context: { computerName: string; serverAddress(server: string): string }, now: Date): string {
  const lines = ['#Software: Relaydesk', '#Version: 1.0', `#Date: ${now.toISOString().replace('T', ' ').slice(0, 19)}`, `#Fields: ${W3C_FIELDS}`];
  const sessions = new Map<string, { port: number | null; at: number; bytesIn: number; bytesOut: number }>();
  for (const e of events) {
    const at = Date.parse(e.at);
    const before = sessions.get(e.session) ?? { port: null, at, bytesIn: 0, bytesOut: 0 };
    const port = e.type === 'connect' ? e.port : before.port;
    const bytesIn = e.bytesIn ?? (e.type === 'close' ? e.bytesIn : before.bytesIn);
    const bytesOut = e.bytesOut ?? (e.type === 'close' ? e.bytesOut : before.bytesOut);
    sessions.set(e.session, { port, at, bytesIn, bytesOut });
    const c = command(e);
    const csBytes = e.type === 'data' ? Math.max(e.size, bytesIn - before.bytesIn) : Math.max(0, bytesIn - before.bytesIn);
    lines.push([
      e.at.slice(0, 10), e.at.slice(11, 19), w3c(e.address), w3c(e.user ?? (e.device ? `device:${e.device}` : null)), w3c(e.server), w3c(context.computerName),
      w3c(context.serverAddress(e.server)), w3c(port), w3c(c.method), w3c(c.query), w3c(c.status), 0, Math.max(0, bytesOut - before.bytesOut), csBytes,
      e.type === 'close' ? e.durationMs : Math.max(0, at - before.at), 'SMTP', '-', w3c(c.agent), '-', '-',
    ].join(' '));
  }
  return `${lines.join('\r\n')}\r\n`;
}

const CSV_COLUMNS = ['at', 'server', 'session', 'address', 'user', 'device', 'type', 'command', 'code', 'enhanced', 'text', 'rule', 'bytes_in', 'bytes_out'];

function csv(value: string | number | null | undefined): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(events: readonly SessionEvent[]): string {
  const rows = [CSV_COLUMNS.join(',')];
  for (const e of events) {
    const c = command(e);
    const decision = 'decision' in e ? e.decision : undefined;
    rows.push([e.at, e.server, e.session, e.address, e.user, e.device, e.type, e.type === 'reply' ? e.command : `${c.method} ${c.query}`.trim(), c.status ?? '', decision?.enhanced, decision?.text, decision?.rule, e.bytesIn, e.bytesOut].map(csv).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}
