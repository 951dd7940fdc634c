// The replies that are not about who may send what, as decisions like the others: server paused,
// the login throttle, the outcome of a credential check, the message queued or not stored, and
// the protocol's own refusals (line too long, bare CR, bad base64, too many clients, an unknown
// command, a time-out, a command out of sequence). The engine logs each one with its rule and sends
// it unchanged, so the log holds every reply a client was given. Pure: facts in, a Decision out.
import { allow, type Decision, refuse } from './decision';

export function evaluatePaused(): Decision {
  return refuse(421, '4.3.2', 'Service paused, try again later', 'server:paused', true);
}

/** The login throttle said this attempt is blocked: for the address (closed), or for the user there. */
export function evaluateThrottle(blocked: { scope: 'address' | 'user'; rule: string }): Decision {
  return blocked.scope === 'address'
    ? refuse(421, '4.7.0', 'Too many failed logins from your address, try again later', blocked.rule, true)
    : refuse(454, '4.7.0', 'Too many failed logins for this user, try again later', blocked.rule);
}

export function evaluateCredentials(result: { ok: true } | { ok: false; reason: string }): Decision {
  return result.ok ? allow('auth:success', 'Authentication successful', 235, '2.7.0') : refuse(535, '5.7.8', 'Authentication credentials invalid', `auth:${result.reason}`);
}

export function evaluateQueued(queueId: string): Decision {
  return allow('data:queued', `Queued as ${queueId}`, 250, '2.6.0');
}

/** The spool could not store the message: no space (452 4.3.1) or another write failure (451 4.3.0). */
export function evaluateSpoolFailure(kind: 'no-space' | 'write-failed'): Decision {
  return kind === 'no-space'
    ? refuse(452, '4.3.1', 'Insufficient system storage, try again later', 'spool:no-space')
    : refuse(451, '4.3.0', 'Local error in processing, try again later', 'spool:write-failed');
}

export type ProtocolEvent = 'too-many-clients' | 'line-too-long' | 'bare-cr' | 'invalid-base64' | 'tls-without-starttls';

export function evaluateProtocolEvent(event: ProtocolEvent): Decision {
  switch (event) {
    case 'too-many-clients': return refuse(421, '4.7.0', 'Too many connected clients, try again in a moment', 'connection:server-limit', true);
    case 'line-too-long': return refuse(500, '5.5.2', 'Line too long', 'protocol:line-too-long', true);
    case 'bare-cr': return refuse(501, '5.5.2', 'Syntax error: bare CR in command line', 'protocol:bare-cr');
    case 'invalid-base64': return refuse(501, '5.5.2', 'Invalid base64 data', 'auth:invalid-base64');
    // A device set to "SSL/TLS" (implicit TLS) on a STARTTLS port: its handshake arrives as a command line.
    case 'tls-without-starttls': return refuse(500, '5.5.2', 'The client began TLS without STARTTLS: set it to STARTTLS for this port, or use the implicit-TLS port for SSL/TLS', 'tls:ssl-on-starttls-port', true);
  }
}

const STOCK_RULES: Array<[RegExp, string]> = [
  [/timeout/i, 'protocol:timeout'],
  [/command not recognized|not allowed in LMTP|wizard|mortals|shell|kill Mom/i, 'protocol:unknown-command'],
  [/too many unrecognized commands/i, 'protocol:too-many-unknown-commands'],
  [/too many unauthenticated commands/i, 'protocol:too-many-unauthenticated-commands'],
  [/talk too soon/i, 'protocol:early-talker'],
  [/HTTP requests/i, 'protocol:http-request'],
  [/shutting down/i, 'server:shutting-down'],
  [/send HELO\/EHLO first|nested MAIL|need MAIL|need RCPT|TLS already active|transaction in progress|identity changes/i, 'protocol:bad-sequence'],
  [/syntax|Bad (sender|recipient) address|Bad hostname|parameter/i, 'protocol:syntax'],
  [/too many recipients/i, 'messages:recipient-limit'],
  [/exceeds fixed maximum message size/i, 'messages:size-limit'],
  [/Not allowed/i, 'protocol:command-disabled'],
  [/internal server error/i, 'server:internal-error'],
];

/**
 * A refusal the SMTP library wrote by itself (its own syntax and sequence checks, time-outs, unknown
 * commands): named by rule so the log can say why, with the enhanced code the client was sent
 * ("" where the library sends none: replies to HELO and EHLO, as RFC 2034 allows).
 */
export function classifyProtocolReply(code: number, enhanced: string, text: string): Decision {
  const rule = STOCK_RULES.find(([pattern]) => pattern.test(text))?.[1] ?? 'protocol:other';
  return refuse(code, enhanced, text, rule, code === 421);
}

/** SMTP verbs a log line may name; anything else could be a credential sent at the wrong moment. */
const LOGGABLE_VERBS = new Set(['HELO', 'EHLO', 'LHLO', 'MAIL', 'RCPT', 'DATA', 'BDAT', 'RSET', 'NOOP', 'QUIT', 'VRFY', 'EXPN', 'HELP', 'AUTH', 'STARTTLS', 'ETRN', 'TURN', 'ATRN', 'XCLIENT', 'XFORWARD', 'SEND', 'SOML', 'SAML']);
/** Verbs whose argument is a name or an address, and helps the admin see what was refused. */
const WITH_ARGUMENT = new Set(['HELO', 'EHLO', 'LHLO', 'MAIL', 'RCPT', 'VRFY', 'EXPN']);
const MAX_LOGGED_COMMAND = 200;

/**
 * The command a library refusal answered, as the log shows it ("RCPT TO:<a@example.com>",
 * "AUTH PLAIN", "DATA"), or null. Never a credential: an AUTH line keeps only its mechanism, and
 * a line whose first word is not an SMTP verb (an unknown command, perhaps a password typed where
 * a command belongs) is not repeated at all.
 */
export function loggableCommand(line: string): string | null {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a log line
  const text = line.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  const [first = '', second = ''] = text.split(/\s+/, 2);
  const verb = first.toUpperCase();
  if (!LOGGABLE_VERBS.has(verb)) return null;
  if (verb === 'AUTH') return /^[A-Za-z0-9_-]{1,20}$/.test(second) ? `AUTH ${second.toUpperCase()}` : 'AUTH';
  if (!WITH_ARGUMENT.has(verb)) return verb;
  return text.length > MAX_LOGGED_COMMAND ? `${text.slice(0, MAX_LOGGED_COMMAND)}…` : text;
}
