// Microsoft Graph sendMail: the message goes as it was accepted, base64 MIME in one POST to
// /users/{mailbox}/sendMail (Content-Type: text/plain), never re-encoded. Graph takes the
// recipients from the headers, so envelope recipients the headers do not name (Bcc removed by the
// client, list expansion) are added as a Bcc header in front; nothing else is touched. The answer
// becomes an SMTP-like reply the queue understands: 202 delivered, 429/503/5xx/network retry
// (honouring Retry-After), 401 a refused token, 4xx a failure with Graph's code and message.

/** Graph's limit for one request (4 MB); base64 makes the message a third larger. */
export const GRAPH_REQUEST_LIMIT_BYTES = 4 * 1024 * 1024;

export type GraphOutcome =
  | { kind: 'delivered'; reply: string }
  | { kind: 'deferred'; reply: string; retryAfterMs: number | null; tokenRefused?: boolean }
  | { kind: 'failed'; reply: string; status: string };

export interface GraphSendInput {
  graphUrl: string;
  mailbox: string;
  accessToken: string;
  /** The message as accepted (headers and body). */
  message: Buffer;
  /** Envelope recipients of this attempt. */
  recipients: readonly string[];
  timeoutMs: number;
  now(): Date;
}

/** Addresses named in To, Cc and Bcc of the header block (lower case). */
export function headerRecipients(headers: string): Set<string> {
  const unfolded = headers.replace(/\r?\n[ \t]+/g, ' ');
  const found = new Set<string>();
  for (const line of unfolded.split(/\r?\n/)) {
    const match = /^(to|cc|bcc)\s*:(.*)$/i.exec(line);
    if (!match) continue;
    for (const address of (match[2] ?? '').matchAll(/[^\s<>",;:()]+@[^\s<>",;:()]+/g)) found.add(address[0].toLowerCase());
  }
  return found;
}

/** The message with a Bcc header in front for envelope recipients its headers do not name. */
export function withMissingRecipients(message: Buffer, recipients: readonly string[]): Buffer {
  const end = message.indexOf('\r\n\r\n');
  const headers = message.subarray(0, end < 0 ? Math.min(message.length, 256 * 1024) : end).toString('latin1');
  const named = headerRecipients(headers);
  const missing = recipients.filter((r) => !named.has(r.toLowerCase()));
  if (missing.length === 0) return message;
  return Buffer.concat([Buffer.from(`Bcc: ${missing.join(', ')}\r\n`, 'latin1'), message]);
}

function retryAfterMs(header: string | null, now: Date): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

async function graphError(response: Response): Promise<{ code: string; message: string }> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return { code: body.error?.code ?? `HTTP ${response.status}`, message: (body.error?.message ?? '').replace(/\s+/g, ' ').slice(0, 300) };
  } catch {
    return { code: `HTTP ${response.status}`, message: text.replace(/\s+/g, ' ').slice(0, 300) };
  }
}

export async function sendViaGraph(input: GraphSendInput): Promise<GraphOutcome> {
  const mime = withMissingRecipients(input.message, input.recipients);
  const body = mime.toString('base64');
  if (body.length > GRAPH_REQUEST_LIMIT_BYTES) {
    return { kind: 'failed', status: '5.3.4', reply: `552 5.3.4 Message too large for Microsoft Graph's request limit (${mime.length} bytes; Graph accepts about ${Math.floor(GRAPH_REQUEST_LIMIT_BYTES * 3 / 4)} bytes of message)` };
  }
  const url = `${input.graphUrl.replace(/\/+$/, '')}/v1.0/users/${encodeURIComponent(input.mailbox)}/sendMail`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${input.accessToken}`, 'content-type': 'text/plain' },
      body,
      signal: AbortSignal.timeout(input.timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { kind: 'deferred', retryAfterMs: null, reply: `451 4.4.1 Microsoft Graph not reachable (${cause?.code ?? cause?.message ?? (err as Error).message})` };
  }
  if (response.status === 202) {
    await response.body?.cancel().catch(() => undefined);
    return { kind: 'delivered', reply: `250 2.0.0 Accepted by Microsoft Graph sendMail as ${input.mailbox} (202${response.headers.get('request-id') ? `, request-id ${response.headers.get('request-id')}` : ''})` };
  }
  const error = await graphError(response);
  const detail = `${error.code}${error.message ? `: ${error.message}` : ''}`;
  if (response.status === 429 || response.status === 503 || response.status === 504 || response.status >= 500) {
    const after = retryAfterMs(response.headers.get('retry-after'), input.now());
    return { kind: 'deferred', retryAfterMs: after, reply: `451 4.7.500 Microsoft Graph busy (HTTP ${response.status} ${detail})${after !== null ? `; retry after ${Math.ceil(after / 1000)} s` : ''}` };
  }
  if (/SendAsDenied/i.test(error.code)) return { kind: 'failed', status: '5.7.60', reply: `550 5.7.60 Microsoft Graph: ${input.mailbox} may not send as this sender (${detail})` };
  if (response.status === 401) return { kind: 'deferred', retryAfterMs: null, tokenRefused: true, reply: `454 4.7.0 Microsoft Graph refused the token (HTTP 401 ${detail})` };
  if (response.status === 413) return { kind: 'failed', status: '5.3.4', reply: `552 5.3.4 Message too large for Microsoft Graph's request limit (HTTP 413 ${detail})` };
  // 403 and 404 are this server's configuration (permission, mailbox), not the message: wait for the admin.
  if (response.status === 403 || response.status === 404) return { kind: 'deferred', retryAfterMs: null, reply: `454 4.7.0 Microsoft Graph refused to send as ${input.mailbox} (HTTP ${response.status} ${detail})` };
  return { kind: 'failed', status: '5.6.0', reply: `554 5.6.0 Microsoft Graph refused the message (HTTP ${response.status} ${detail})` };
}
