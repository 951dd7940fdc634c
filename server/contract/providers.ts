// The providers Relaydesk knows by name: OAuth2 endpoints of the Microsoft identity platform and
// Google, Microsoft Graph's address and scopes, and the ready-made smart hosts with what each
// needs on the provider's side. Pure data (settings.ts re-exports it).
import type { OAuth2Settings } from './settings';

/** Microsoft identity platform v2 and Google; "custom" names its own endpoints. */
export const OAUTH_PROVIDERS = {
  microsoft365: {
    label: 'Microsoft 365 (Microsoft identity platform)',
    authorizationEndpoint: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
    tokenEndpoint: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
    deviceEndpoint: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode',
    scope: 'https://outlook.office.com/SMTP.Send offline_access',
    /** Client credentials (app-only, SMTP.SendAsApp): the resource's .default scope. */
    appScope: 'https://outlook.office365.com/.default',
    /** The Microsoft identity platform offers no RFC 7009 revocation endpoint. */
    revocationEndpoint: null,
    /** Entra ID registers "http://localhost" for public clients; any port is accepted for it. */
    redirectHost: 'localhost',
    smartHost: { host: 'smtp.office365.com', port: 587 },
  },
  google: {
    label: 'Google (Gmail, Google Workspace)',
    authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenEndpoint: 'https://oauth2.googleapis.com/token',
    // Google's device flow does not allow the Gmail scope.
    deviceEndpoint: null,
    scope: 'https://mail.google.com/',
    appScope: null,
    revocationEndpoint: 'https://oauth2.googleapis.com/revoke',
    redirectHost: '127.0.0.1',
    smartHost: { host: 'smtp.gmail.com', port: 587 },
  },
} as const;
export type OAuthProvider = keyof typeof OAUTH_PROVIDERS | 'custom';

/** Microsoft Graph (global cloud); sovereign clouds have their own (graph.microsoft.us, microsoftgraph.chinacloudapi.cn). */
export const GRAPH_URL = 'https://graph.microsoft.com';

/** The OAuth2 scope Graph sendMail needs: app-only the resource's .default (Mail.Send application permission), delegated Mail.Send. */
export function graphScope(graphUrl: string | null, flow: OAuth2Settings['flow']): string {
  const base = (graphUrl ?? GRAPH_URL).replace(/\/+$/, '');
  return flow === 'app' ? `${base}/.default` : `${base}/Mail.Send offline_access`;
}

/**
 * Ready-made smart hosts; the admin adds the account. `setup` says what must be set up on the
 * provider's side, with the setting names the provider's admin pages use; `caps` are the
 * provider's limits the queue keeps to.
 */
export const SMART_HOST_PRESETS = {
  microsoft365: {
    label: 'Microsoft 365 (smtp.office365.com)', host: 'smtp.office365.com', port: 587, security: 'starttls',
    caps: { maxMessagesPerMinute: 30, maxRecipientsPerDay: 10_000 },
    setup: 'Sign in as a licensed mailbox with OAuth2 (Basic SMTP AUTH is off by default for existing tenants from the end of December 2026). Microsoft 365 admin center → Users → the mailbox → Mail → Manage email apps → Authenticated SMTP must be on, and the tenant must allow SMTP AUTH (Set-TransportConfig -SmtpClientAuthenticationDisabled $false). Where SMTP AUTH is off, choose Microsoft Graph instead.',
  },
  'microsoft365-hve': {
    label: 'Microsoft 365 High Volume Email (smtp.hve.mx.microsoft)', host: 'smtp.hve.mx.microsoft', port: 587, security: 'starttls',
    caps: { maxMessagesPerMinute: null, maxRecipientsPerDay: null },
    setup: 'Exchange admin center → Mail flow → High volume email → Add an HVE account (its address and password, or OAuth2). HVE delivers only to recipients inside your own tenant (internal mail: scanners, alerts to staff).',
  },
  'microsoft365-connector': {
    label: 'Microsoft 365 connector relay (your tenant\'s MX, port 25)', host: '', port: 25, security: 'starttls',
    caps: { maxMessagesPerMinute: null, maxRecipientsPerDay: null },
    setup: 'Needs a static public IP address or a certificate. Exchange admin center → Mail flow → Connectors → Add a connector: Connection from "Your organization\'s email server", to "Office 365"; authenticate sent email "By verifying that the IP address of the sending server matches one of the following IP addresses" (this office\'s static IP) or "By verifying that the subject name on the certificate that the sending server uses to authenticate with Office 365 matches this domain name" (then choose that certificate as the client certificate here). The host is your domain\'s MX (contoso-com.mail.protection.outlook.com); no sign-in.',
  },
  'azure-communication': {
    label: 'Azure Communication Services (smtp.azurecomm.net)', host: 'smtp.azurecomm.net', port: 587, security: 'starttls',
    caps: { maxMessagesPerMinute: 30, maxRecipientsPerDay: null },
    setup: 'Azure portal → the Communication Services resource → Email → Domains: connect a verified domain; Microsoft Entra ID → App registrations: an app with a client secret and the role "Communication and Email Service Owner" on the resource; then the resource → Settings → SMTP Usernames → Add. User name: that SMTP user name; password: the app\'s client secret.',
  },
  'google-relay': {
    label: 'Google Workspace SMTP relay (smtp-relay.gmail.com)', host: 'smtp-relay.gmail.com', port: 587, security: 'starttls',
    caps: { maxMessagesPerMinute: null, maxRecipientsPerDay: null },
    setup: 'Google Admin console → Apps → Google Workspace → Gmail → Routing → SMTP relay service → Configure: Allowed senders "Only addresses in my domains"; Authentication "Only accept mail from the specified IP addresses" (this office\'s public IP) and/or "Require SMTP Authentication"; "Require TLS encryption" on.',
  },
  gmail: {
    label: 'Gmail / Google Workspace with an account (smtp.gmail.com)', host: 'smtp.gmail.com', port: 587, security: 'starttls',
    caps: { maxMessagesPerMinute: null, maxRecipientsPerDay: 2_000 },
    setup: 'Sign in with OAuth2 (Google Cloud console: an OAuth client ID of type Desktop app with the scope https://mail.google.com/), or with an app password (myaccount.google.com → Security → App passwords; needs 2-Step Verification).',
  },
  isp: {
    label: 'Internet provider (fill in its host)', host: '', port: 587, security: 'starttls',
    caps: { maxMessagesPerMinute: null, maxRecipientsPerDay: null },
    setup: 'Your provider\'s submission server, port and account, from its help pages.',
  },
} as const;
export type SmartHostPreset = keyof typeof SMART_HOST_PRESETS;
