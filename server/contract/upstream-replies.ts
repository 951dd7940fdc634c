// Replies from Microsoft 365, Google and Microsoft Graph that need the admin, in plain words with
// the fix — and those a receiving mail server gives direct delivery because of this office's own
// name or address (EHLO name, reverse DNS, block lists): shown beside the reply in queue details,
// in the status bar and in serve's output. Pure: a reply (as recorded for a recipient) in, an
// explanation out.

export interface UpstreamExplanation {
  /** A short key (stable, for de-duplicating warnings). */
  id: string;
  /** What happened, in the admin's words. */
  problem: string;
  /** What to do about it, with the exact setting names. */
  fix: string;
}

interface Known extends UpstreamExplanation { match: RegExp }

const SWITCH_TO_GRAPH = 'Switch this server to Microsoft Graph (relaydesk smarthost graph SERVER …; it works with SMTP AUTH off), or turn SMTP AUTH on: Microsoft 365 admin center → Users → the mailbox → Mail → Manage email apps → Authenticated SMTP, and for the tenant Set-TransportConfig -SmtpClientAuthenticationDisabled $false.';

const KNOWN: Known[] = [
  {
    id: 'm365-smtp-auth-disabled', match: /5\.7\.139|SmtpClientAuthentication is disabled/i,
    problem: 'Microsoft 365 has SMTP AUTH switched off for this tenant or mailbox (5.7.139); since the end of December 2026 Basic SMTP AUTH is off by default for existing tenants.',
    fix: SWITCH_TO_GRAPH,
  },
  {
    id: 'm365-basic-auth-off', match: /5\.7\.30\b|Basic authentication is not supported/i,
    problem: 'Microsoft 365 no longer accepts a password (Basic authentication) for SMTP from this tenant (5.7.30).',
    fix: 'Sign in with OAuth2 instead (relaydesk smarthost oauth SERVER --provider microsoft365 …) or send through Microsoft Graph (relaydesk smarthost graph SERVER …).',
  },
  {
    id: 'm365-send-as-denied', match: /5\.7\.60\b|SendAsDenied|ErrorSendAsDenied/i,
    problem: 'The mailbox Relaydesk signs in as may not send as the sender address of this message (SendAsDenied).',
    fix: 'Grant it: Exchange admin center → Recipients → Mailboxes → the sender\'s mailbox → Delegation → Send as → add the relay mailbox; or have the device send from the relay mailbox\'s own address.',
  },
  {
    id: 'm365-not-authenticated', match: /5\.7\.57\b|Client not authenticated to send mail/i,
    problem: 'Microsoft 365 refused mail that was sent without signing in (5.7.57).',
    fix: 'Set Outbound authentication on Properties → Delivery (Basic, OAuth2 or Graph), or use a Microsoft 365 connector (preset "Microsoft 365 connector relay") that recognises this office\'s static IP address or certificate.',
  },
  {
    id: 'm365-throttled', match: /4\.7\.5\d\d\b|Server busy|ApplicationThrottled|MailboxConcurrency|TooManyRequests|\b429\b/i,
    problem: 'Microsoft 365 is throttling this mailbox or app (too many messages or connections at once).',
    fix: 'Nothing is lost: the queue retries. Keep to Microsoft\'s limits (30 messages a minute and 10,000 recipients a day per mailbox; 4 concurrent Graph requests), or spread the mail over more mailboxes.',
  },
  {
    id: 'm365-quota', match: /5\.2\.2\b.*(quota|Submission)|SubmissionQuotaExceeded|ErrorQuotaExceeded/i,
    problem: 'The sending mailbox has hit its quota (Microsoft 365: 10,000 recipients a day) or its mailbox is full (5.2.2).',
    fix: 'Wait until the 24-hour window frees up, or send bulk mail through Azure Communication Services or High Volume Email instead of a user mailbox.',
  },
  {
    id: 'm365-oauth-token', match: /535 5\.7\.3\b|InvalidAuthenticationToken|AADSTS/i,
    problem: 'The provider refused the OAuth2 token: the app lacks the permission, the admin has not consented, or the mailbox is not allowed for the app.',
    fix: 'Entra admin center → App registrations → the app → API permissions: SMTP.SendAsApp (SMTP) or Mail.Send (Graph), then Grant admin consent; for app-only SMTP also register the app in Exchange (New-ServicePrincipal, Add-MailboxPermission).',
  },
  {
    id: 'graph-access-denied', match: /ErrorAccessDenied|Access is denied/i,
    problem: 'Microsoft Graph refused to send as this mailbox (Access is denied): the app has no Mail.Send permission for it.',
    fix: 'Entra admin center → App registrations → the app → API permissions → Microsoft Graph → Application permissions → Mail.Send → Grant admin consent; if an application access policy or RBAC for Applications limits the app, add the mailbox to its scope.',
  },
  {
    id: 'graph-mailbox', match: /MailboxNotEnabledForRESTAPI|ErrorInvalidUser|ResourceNotFound|ErrorNonExistentMailbox/i,
    problem: 'Microsoft Graph cannot use this mailbox: the address is wrong, the user has no Exchange Online licence, or the mailbox is on-premises.',
    fix: 'Check the mailbox on Properties → Delivery (relaydesk smarthost graph SERVER --mailbox ADDR); it must be a licensed Exchange Online mailbox or shared mailbox.',
  },
  {
    id: 'graph-too-large', match: /Graph's request limit|ErrorMessageSizeExceeded|RequestEntityTooLarge|\b413\b/i,
    problem: 'The message is larger than Microsoft Graph accepts in one request (4 MB, about 3 MB of message).',
    fix: 'Ask the sender to share large files as links, or send large mail through an SMTP route (OAuth2 or a connector).',
  },
  {
    id: 'google-relay-denied', match: /Mail relay denied|Invalid credentials for relay/i,
    problem: 'Google\'s SMTP relay service does not recognise this server.',
    fix: 'Google Admin console → Apps → Google Workspace → Gmail → Routing → SMTP relay service → Add: Allowed senders "Only addresses in my domains", Authentication "Only accept mail from the specified IP addresses" with this office\'s public IP (or "Require SMTP Authentication"), and "Require TLS encryption".',
  },
  {
    id: 'google-credentials', match: /5\.7\.8\b.*(Username and Password not accepted|BadCredentials)|Application-specific password required/i,
    problem: 'Google refused the user name and password (5.7.8): accounts with 2-Step Verification need OAuth2 or an app password.',
    fix: 'Sign in with OAuth2 (relaydesk smarthost oauth SERVER --provider google …), or create an app password at myaccount.google.com → Security → App passwords.',
  },
  {
    id: 'google-auth-required', match: /530 5\.7\.0 Authentication Required/i,
    problem: 'Google requires signing in before sending (5.7.0).',
    fix: 'Set Outbound authentication on Properties → Delivery (OAuth2 with Google), or register this office\'s IP address with Google\'s SMTP relay service.',
  },
  {
    id: 'ehlo-name-refused', match: /Helo command rejected|fully[- ]qualified host ?name|5\.5\.4 Invalid domain name/i,
    problem: 'A receiving mail server refused the name this server greets with (EHLO): it is not a fully qualified name that resolves in DNS.',
    fix: 'Set the FQDN on Properties → General to a name whose DNS A record points to this office\'s public IP address, with a matching reverse (PTR) record from your ISP (relaydesk server set SERVER fqdn=mail.example.com; check it with relaydesk dns check-fqdn SERVER), or deliver through a smart host (your ISP, Microsoft 365 or Google) on Properties → Delivery.',
  },
  {
    id: 'no-reverse-dns', match: /5\.7\.25\b|PTR record|reverse DNS|cannot find your (reverse )?hostname/i,
    problem: 'A receiving mail server refused mail from this office\'s public IP address: it has no matching reverse DNS (PTR) name.',
    fix: 'Ask your ISP for a PTR record naming the FQDN set on Properties → General (and an A record back to the address), or deliver through a smart host (your ISP, Microsoft 365 or Google) on Properties → Delivery.',
  },
  {
    id: 'ip-block-listed', match: /blocked using|spamhaus|\bPBL\b|banned sending IP|5\.7\.606|S3150|not authorized to send email directly to our servers/i,
    problem: 'A receiving mail server refused mail from this office\'s public IP address: it is on a block list, or it is a dynamic or residential address that may not deliver mail directly (for example Spamhaus PBL).',
    fix: 'Deliver through a smart host instead of directly: your ISP\'s, Microsoft 365 or Google (Properties → Delivery, or relaydesk smarthost set SERVER …). The list named in the reply says why the address is listed.',
  },
  {
    id: 'smtp-credentials', match: /535 5\.7\.8\b/,
    problem: 'The smart host refused the user name and password (5.7.8).',
    fix: 'Type the password again on Properties → Delivery → Outbound authentication (relaydesk smarthost set SERVER --user NAME --password-stdin); check the account is not locked.',
  },
];

/** The plain-words explanation of a recorded reply, or null when it is nothing the admin must act on. */
export function explainUpstreamReply(reply: string | null | undefined): UpstreamExplanation | null {
  if (!reply) return null;
  const found = KNOWN.find((k) => k.match.test(reply));
  return found ? { id: found.id, problem: found.problem, fix: found.fix } : null;
}
