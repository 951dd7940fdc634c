// Plain words for upstream replies, the send governor's windows, and the Bcc line Graph needs.
import { describe, expect, it } from 'vitest';
import { explainUpstreamReply } from '../../server/contract/upstream-replies';
import { headerRecipients, withMissingRecipients } from '../../server/delivery/graph-send';
import { SendGovernor } from '../../server/delivery/send-governor';

describe('explainUpstreamReply', () => {
  it.each([
    ['454 4.7.0 The smart host refused the sign-in: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.', 'm365-smtp-auth-disabled', 'Microsoft Graph'],
    ['535 5.7.139 Authentication unsuccessful, basic authentication is disabled.', 'm365-smtp-auth-disabled', 'Authenticated SMTP'],
    ['535 5.7.30 Authentication unsuccessful, Basic authentication is not supported for Client Submission.', 'm365-basic-auth-off', 'OAuth2'],
    ['550 5.7.60 SMTP; Client does not have permissions to send as this sender', 'm365-send-as-denied', 'Send as'],
    ['530 5.7.57 Client not authenticated to send mail.', 'm365-not-authenticated', 'connector'],
    ['451 4.7.500 Server busy. Please try again later from [192.0.2.7]', 'm365-throttled', '30 messages a minute'],
    ['554 5.2.2 mailbox full; STOREDRV.Submission.Exception:SubmissionQuotaExceededException', 'm365-quota', 'High Volume Email'],
    ['454 4.7.0 The smart host refused the sign-in: 535 5.7.3 Authentication unsuccessful', 'm365-oauth-token', 'SMTP.SendAsApp'],
    ['454 4.7.0 Microsoft Graph refused to send as relay@contoso.com (HTTP 403 ErrorAccessDenied: Access is denied. Check credentials and try again.)', 'graph-access-denied', 'Mail.Send'],
    ['454 4.7.0 Microsoft Graph refused to send as x@contoso.com (HTTP 404 MailboxNotEnabledForRESTAPI: The mailbox is either inactive, soft-deleted, or is hosted on-premise.)', 'graph-mailbox', 'licensed'],
    ['550 5.7.0 Mail relay denied [203.0.113.9]. Invalid credentials for relay for one of the domains in: example.com', 'google-relay-denied', 'SMTP relay service'],
    ['454 4.7.0 The smart host refused the sign-in: 535-5.7.8 Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials', 'google-credentials', 'app password'],
    ['530 5.7.0 Authentication Required. For more information, go to https://support.google.com/mail/?p=WantAuthError', 'google-auth-required', 'OAuth2'],
    // Direct delivery, refused because of this office's own name or address.
    ['504 5.5.2 <vm>: Helo command rejected: need fully-qualified hostname', 'ehlo-name-refused', 'relaydesk dns check-fqdn'],
    ['501 5.5.4 Invalid domain name', 'ehlo-name-refused', 'Properties → General'],
    ['550-5.7.25 [203.0.113.9] The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP.', 'no-reverse-dns', 'PTR record'],
    ['450 4.7.1 Client host rejected: cannot find your reverse hostname, [203.0.113.9]', 'no-reverse-dns', 'smart host'],
    ['554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.9', 'ip-block-listed', 'smart host'],
    ['550-5.7.1 [203.0.113.9] The IP you\'re using to send mail is not authorized to send email directly to our servers. Please use the SMTP relay at your service provider instead.', 'ip-block-listed', 'smart host'],
    ['550 5.7.1 Unfortunately, messages from [203.0.113.9] weren\'t sent. Please contact your Internet service provider since part of their network is on our block list (S3150).', 'ip-block-listed', 'smart host'],
  ])('%s', (reply, id, fix) => {
    const explanation = explainUpstreamReply(reply);
    expect(explanation?.id).toBe(id);
    expect(explanation?.fix).toContain(fix);
  });

  it('has nothing to say about ordinary replies', () => {
    for (const reply of ['250 2.0.0 OK', '550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown', 'connection failed: connect ECONNREFUSED 192.0.2.1:25', null]) {
      expect(explainUpstreamReply(reply)).toBeNull();
    }
  });
});

describe('SendGovernor', () => {
  it('keeps to messages a minute and recipients a day with sliding windows', () => {
    let now = 0;
    const governor = new SendGovernor(() => now);
    const caps = { messagesPerMinute: 2, recipientsPerDay: 5 };
    expect(governor.waitMs('r', caps, 1)).toBe(0);
    governor.record('r', 1);
    now = 10_000;
    governor.record('r', 1);
    expect(governor.waitMs('r', caps, 1)).toBe(50_000);
    now = 30_000;
    expect(governor.waitMs('r', caps, 1)).toBe(30_000);
    now = 60_001;
    expect(governor.waitMs('r', caps, 1)).toBe(0);
    now = 70_001;
    expect(governor.waitMs('r', caps, 3)).toBe(0);
    governor.record('r', 3);
    now = 200_000;
    // 5 recipients in the last day: one more waits until the first (at 0) leaves the window.
    expect(governor.waitMs('r', caps, 1)).toBe(86_400_000 - 200_000);
    expect(governor.waitMs('other', caps, 1)).toBe(0);
  });
});

describe('Graph MIME', () => {
  it('names the header recipients, folded lines and groups included, and adds only the missing ones as Bcc', () => {
    const message = Buffer.from('From: a@example.com\r\nTo: "Bob" <bob@partner.test>,\r\n carol@partner.test\r\nCc: Team: dave@partner.test;\r\nSubject: x\r\n\r\nTo: eve@partner.test\r\n');
    expect([...headerRecipients(message.toString().split('\r\n\r\n')[0] ?? '')].sort()).toEqual(['bob@partner.test', 'carol@partner.test', 'dave@partner.test']);
    expect(withMissingRecipients(message, ['BOB@partner.test', 'dave@partner.test'])).toBe(message);
    const added = withMissingRecipients(message, ['bob@partner.test', 'eve@partner.test']);
    expect(added.toString()).toBe(`Bcc: eve@partner.test\r\n${message.toString()}`);
  });
});
