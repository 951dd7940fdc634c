// Non-delivery reports (RFC 3464 multipart/report, report-type=delivery-status) with the original
// message's headers (RFC 6522 text/rfc822-headers). Sent from the null sender, so they never loop.
import crypto from 'node:crypto';

export interface FailedRecipient { address: string; status: string; diagnostic: string }

export interface NdrInput {
  reportingMta: string;
  sender: string;
  arrivalDate: Date;
  now: Date;
  recipients: readonly FailedRecipient[];
  originalHeaders: string;
  originalQueueId: string;
  /** failed: a non-delivery report; delayed: "still trying" (RFC 3464 Action: delayed), with the give-up time. */
  action?: 'failed' | 'delayed';
  willRetryUntil?: Date;
}

const RFC5322_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const RFC5322_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function date(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${RFC5322_DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${RFC5322_MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export function buildNdr(input: NdrInput): string {
  const boundary = `relaydesk-${crypto.randomBytes(12).toString('hex')}`;
  const lines = (text: string) => text.replace(/\r?\n/g, '\r\n');
  const delayed = input.action === 'delayed';
  const human = [
    `This is the mail system at ${input.reportingMta}.`,
    '',
    delayed
      ? 'Your message has not been delivered yet to the following recipient(s). This is a warning only: it stays queued and is retried'
        + (input.willRetryUntil ? ` until ${date(input.willRetryUntil)}.` : '.') + ' You do not need to send it again.'
      : 'Your message could not be delivered to the following recipient(s):',
    '',
    ...input.recipients.map((r) => `  <${r.address}>: ${r.diagnostic}`),
    '',
    'The headers of your message are attached.',
  ].join('\r\n');
  const perRecipient = input.recipients.map((r) => [
    `Final-Recipient: rfc822; ${r.address}`,
    `Action: ${delayed ? 'delayed' : 'failed'}`,
    `Status: ${r.status}`,
    `Diagnostic-Code: smtp; ${r.diagnostic.replace(/[\r\n]+/g, ' ')}`,
    ...(delayed && input.willRetryUntil ? [`Will-Retry-Until: ${date(input.willRetryUntil)}`] : []),
  ].join('\r\n')).join('\r\n\r\n');
  return [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${input.sender}>`,
    `Subject: ${delayed ? 'Delayed Mail (still being retried)' : 'Undelivered Mail Returned to Sender'}`,
    `Date: ${date(input.now)}`,
    `Message-ID: <${input.originalQueueId}.ndr.${crypto.randomBytes(4).toString('hex')}@${input.reportingMta}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    human,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `X-Relaydesk-Queue-ID: ${input.originalQueueId}`,
    `Arrival-Date: ${date(input.arrivalDate)}`,
    '',
    perRecipient,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    lines(input.originalHeaders.trimEnd()),
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}
