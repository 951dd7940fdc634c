// The trace header Relaydesk adds to each message it accepts (RFC 5321 §4.4), with its
// RFC 5322 date.
import type { SMTPServerSession } from 'smtp-server';
import type { VirtualServerConfig } from '../contract/settings';
import type { SessionInfo } from './virtual-server';

/** RFC 5321 §4.4 trace header, first line of the spooled message. */
export function receivedHeader(config: VirtualServerConfig, info: SessionInfo, session: SMTPServerSession, id: string, now: Date): string {
  const helo = session.hostNameAppearsAs || 'unknown';
  const reverse = info.reverseName.status === 'confirmed' ? info.reverseName.name : 'unknown';
  const literal = info.address.includes(':') ? `IPv6:${info.address}` : info.address;
  // RFC 3848: "SMTP" for a client that greeted with HELO, ESMTP (S: TLS, A: signed in) after EHLO.
  const protocol = info.greeting === 'HELO' && !info.tls && !info.user ? 'SMTP' : `ESMTP${info.tls ? 'S' : ''}${info.user ? 'A' : ''}`;
  const tls = info.tls ? `\r\n\t(using ${info.tls.protocol} with cipher ${info.tls.cipher} (${info.tls.bits} bits))` : '';
  const rcpt = session.envelope.rcptTo.length === 1 ? `\r\n\tfor <${session.envelope.rcptTo[0]?.address}>` : '';
  return `Received: from ${helo} (${reverse} [${literal}])\r\n\tby ${config.fqdn} (Relaydesk) with ${protocol} id ${id}${tls}${rcpt};\r\n\t${rfc5322Date(now)}\r\n`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function rfc5322Date(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
