// How a logged event reads and which events a filter keeps: one formatter and one predicate for
// the live log page, `serve --verbose`, `relaydesk log`, the W3C/CSV export and the store query,
// so what the admin sees on screen is what is exported and printed. Pure: types and text only.
//
// Filter semantics (also in the README and the live log's placeholders):
//   server  — the virtual server's name, exactly (case-insensitive);
//   address — part of the client address ("192.0.2." matches 192.0.2.7), case-insensitive;
//   user    — part of the signed-in user or the trusted device's name, case-insensitive;
//   verdict — allow, refuse (5xx) or defer (4xx), exactly;
//   text    — part of the formatted line below, case-insensitive;
//   from/to — ISO times, inclusive; session — one session id, exactly.
import type { SessionEvent } from './events';
import type { Decision } from './decision';

export interface LogView {
  server?: string | undefined;
  address?: string | undefined;
  user?: string | undefined;
  verdict?: 'allow' | 'refuse' | 'defer' | undefined;
  type?: string | undefined;
  session?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  text?: string | undefined;
}

/**
 * A decision's reply as the client read it (no enhanced code where none was sent: HELO, EHLO, the
 * greeting); code 0 is a refusal without a reply (a failed TLS handshake): its text alone.
 */
export function replyText(decision: Pick<Decision, 'code' | 'enhanced' | 'text'>): string {
  if (decision.code === 0) return decision.text;
  return decision.enhanced ? `${decision.code} ${decision.enhanced} ${decision.text}` : `${decision.code} ${decision.text}`;
}

/** What happened, in one line: the command and the reply, with the rule when refused. */
export function describeEvent(e: SessionEvent): string {
  const rule = 'decision' in e && e.decision && e.decision.verdict !== 'allow' ? ` [${e.decision.rule}]` : '';
  switch (e.type) {
    case 'connect': return `connect to port ${e.port} → ${replyText(e.decision)}${rule}`;
    case 'ehlo': return `${e.helo ? 'HELO' : 'EHLO'} ${e.hostname}`;
    case 'starttls': return e.protocol
      ? `STARTTLS ${e.protocol} ${e.cipher} (${e.bits} bits)${e.decision.verdict === 'allow' ? '' : ` → ${replyText(e.decision)}`}${rule}`
      : `${replyText(e.decision)}${rule}`; // the handshake failed
    case 'auth': return `AUTH ${e.mechanism}${e.login ? ` as ${e.login}` : ''}: ${e.outcome}${e.decision ? ` → ${replyText(e.decision)}` : ''}${rule}`;
    case 'mail': return `MAIL FROM:<${e.from}> → ${replyText(e.decision)}${rule}`;
    case 'rcpt': return `RCPT TO:<${e.to}> → ${replyText(e.decision)}${rule}`;
    case 'data': return `DATA ${e.size} bytes → ${replyText(e.decision)}${rule}`;
    case 'reply': return `${e.command ? `${e.command} ` : ''}→ ${replyText(e.decision)}${rule}`;
    case 'close': return `closed after ${e.durationMs} ms (${e.bytesIn} bytes in, ${e.bytesOut} out)`;
  }
}

/** The verdict of an event: its decision's, or for an AUTH without one, its outcome. */
export function verdictOf(e: SessionEvent): 'allow' | 'refuse' | 'defer' | null {
  if ('decision' in e && e.decision) return e.decision.verdict;
  if (e.type === 'auth') return e.outcome === 'success' ? 'allow' : 'refuse';
  return null;
}

/** The text line `serve --verbose` and `relaydesk log` print, and the live log shows. */
export function formatEventLine(e: SessionEvent): string {
  const who = e.user ?? (e.device ? `device "${e.device}"` : '-');
  return `${e.at} ${e.server} ${e.session} ${e.address} ${who} ${describeEvent(e)}`;
}

export function matchesLogView(e: SessionEvent, view: LogView): boolean {
  const has = (value: string | null | undefined, part: string) => (value ?? '').toLowerCase().includes(part.toLowerCase());
  if (view.server && e.server.toLowerCase() !== view.server.toLowerCase()) return false;
  if (view.address && !has(e.address, view.address)) return false;
  if (view.user && !has(e.user, view.user) && !has(e.device, view.user)) return false;
  if (view.verdict && verdictOf(e) !== view.verdict) return false;
  if (view.type && e.type !== view.type) return false;
  if (view.session && e.session !== view.session) return false;
  if (view.from && e.at < view.from) return false;
  if (view.to && e.at > view.to) return false;
  if (view.text && !has(formatEventLine(e), view.text)) return false;
  return true;
}
