// Settings of a virtual server and the global lists, as zod schemas: the one definition the
// store validates writes with, the policy reads, and the UI will edit. Pure: no I/O here.
import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { GRAPH_URL, OAUTH_PROVIDERS } from './providers';
import { addressRuleSchema, bindAddressSchema, domainSchema, emailSchema, folderSchema, hostnameSchema, portSchema } from './setting-values';

// The values settings are made of (names, addresses, folders, list entries) live in setting-values.ts.
export * from './setting-values';

export const MEBIBYTE = 1024 * 1024;

/**
 * Failed-login throttling. Failures are counted per (user, client address) and per client
 * address: after slowAfter each 535 is delayed, after blockAfter that pair (or the address) is
 * blocked for blockMinutes. Failures against one user from many addresses block the user only at
 * addresses it never signed in from (its addresses of the last 30 days keep working).
 */
export const lockoutSchema = z.object({
  slowAfter: z.number().int().min(1, 'must be at least 1').max(1000),
  blockAfter: z.number().int().min(1, 'must be at least 1').max(10_000),
  windowMinutes: z.number().int().min(1, 'must be at least 1 minute').max(10_080),
  blockMinutes: z.number().int().min(1, 'must be at least 1 minute').max(10_080),
}).strict().refine((l) => l.blockAfter >= l.slowAfter, { message: 'block after must be at least slow down after', path: ['blockAfter'] });
export type LockoutSettings = z.infer<typeof lockoutSchema>;
export const DEFAULT_LOCKOUT: LockoutSettings = { slowAfter: 3, blockAfter: 10, windowMinutes: 15, blockMinutes: 15 };

/** Greeting text after "<FQDN> ESMTP": printable ASCII, no line breaks. */
export const bannerSchema = z.string().trim().max(200, 'must be at most 200 characters').regex(/^[\x20-\x7e]*$/, 'only printable ASCII characters, no line breaks')
  .transform((text) => (text === '' ? null : text)).nullable().default(null);

/** An allowed sender: an address, or "@example.com" / "*@example.com" for a whole domain. */
export const senderPatternSchema = z.string().trim().toLowerCase().refine(
  (value) => emailSchema.safeParse(value).success || /^\*?@[a-z0-9.-]+\.[a-z]{2,}$/i.test(value),
  'must be an address or @domain',
);

/**
 * A device that cannot sign in (a scanner, a line-of-business application): named, found by its
 * address or subnet, pinned to the senders it may use, optionally to recipient domains and to a
 * number of messages per hour. It may submit without AUTH and relay; everyone else still signs in.
 */
export const trustedDeviceSchema = z.object({
  name: z.string().trim().min(1, 'give the device a name, such as "Reception printer"').max(100, 'must be at most 100 characters'),
  /** A single computer or a group (subnet); devices are found by address, never by reverse DNS. */
  match: addressRuleSchema.refine((rule) => rule.kind !== 'domain', 'a device is found by its address or subnet, not by a domain name'),
  /** Senders it may use (addresses or @domain); empty = any sender (say so in the UI). */
  senders: z.array(senderPatternSchema).max(100).default([]),
  /** Recipient domains it may send to (sub-domains too); empty = any. */
  recipientDomains: z.array(domainSchema).max(100).default([]),
  /** Messages per hour; null = no limit. Over it: 452 4.7.0. */
  perHour: z.number().int().min(1, 'must be at least 1').max(1_000_000).nullable().default(null),
  /** May submit before STARTTLS (off by default: its mail crosses the network in clear). */
  allowWithoutTls: z.boolean().default(false),
}).strict();
export type TrustedDevice = z.output<typeof trustedDeviceSchema>;
export type TrustedDeviceInput = z.input<typeof trustedDeviceSchema>;

export const listModeSchema = z.enum(['only-list', 'all-except']);
export type ListMode = z.infer<typeof listModeSchema>;

export const accessSettingsSchema = z.object({
  /** Anonymous access: clients may submit without AUTH (still subject to relay rules). */
  anonymous: z.boolean(),
  /** Basic authentication: AUTH PLAIN and AUTH LOGIN. */
  basicAuth: z.boolean(),
  /** "Requires TLS encryption": AUTH is neither advertised nor accepted before STARTTLS. */
  basicRequiresTls: z.boolean(),
  /** CRAM-MD5 for users who turned it on (their HMAC-MD5 contexts are stored, never the password). */
  cramMd5: z.boolean(),
  /** A bare user name is completed with this domain at login. */
  defaultDomain: domainSchema.nullable(),
  /** "Require secure channel": no MAIL, RCPT or AUTH before STARTTLS. */
  requireSecureChannel: z.boolean(),
  /** "Require 128-bit encryption" today: TLS 1.2+ with AEAD ciphers of 128 bits or more only. */
  requireStrongEncryption: z.boolean(),
  /** Opt-in for scanners that speak only TLS 1.0/1.1; weakens every session of this server. */
  allowLegacyTls: z.boolean(),
  connectionMode: listModeSchema,
  relayMode: listModeSchema,
  /** "Allow all computers which successfully authenticate to relay, regardless of the list above". */
  relayForAuthenticated: z.boolean(),
  /** Authenticated users may send only as their own addresses. */
  restrictSenders: z.boolean(),
  /** Put the client's reverse DNS name in the Received header (costs a lookup per connection). */
  reverseDnsForReceived: z.boolean(),
  /** Simultaneous connections from one client address (slow or greedy clients cannot starve others); null = no limit. */
  maxConnectionsPerAddress: z.number().int().min(1).max(100_000).nullable(),
  /** More certificates, chosen by the name a client asks for (SNI); the assigned one is the default. */
  sniCertificates: z.array(z.string().min(1)).max(50),
  /** Failed-login throttling (Authentication dialog); counted per (user, address) and per address. */
  lockout: lockoutSchema,
  /** Devices that may submit without signing in (Access → Trusted devices…). */
  trustedDevices: z.array(trustedDeviceSchema).max(1000).superRefine((devices, ctx) => {
    const seen = new Set<string>();
    devices.forEach((device, i) => {
      if (seen.has(device.name.toLowerCase())) ctx.addIssue({ code: 'custom', message: `a device named "${device.name}" is already in the list`, path: [i, 'name'] });
      seen.add(device.name.toLowerCase());
    });
  }),
}).strict();
export type AccessSettings = z.infer<typeof accessSettingsSchema>;

const optionalLimit = (max: number) => z.number().int().min(1).max(max).nullable();

export const messageSettingsSchema = z.object({
  /** Largest message in bytes (SIZE advertised); null = no limit. */
  maxMessageBytes: optionalLimit(2 * 1024 * MEBIBYTE),
  /** Largest total of message bytes in one session; null = no limit. */
  maxSessionBytes: optionalLimit(16 * 1024 * MEBIBYTE),
  maxMessagesPerConnection: optionalLimit(1_000_000),
  maxRecipientsPerMessage: optionalLimit(100_000),
  /** Send a copy of every non-delivery report to this address. */
  ndrCopyTo: emailSchema.nullable(),
  /** Folder for messages that can be neither delivered nor returned; null = inside the data folder. */
  badmailFolder: folderSchema.nullable(),
}).strict();
export type MessageSettings = z.infer<typeof messageSettingsSchema>;

/** An https endpoint, or http on loopback (a test or an on-premises identity server on this machine). */
const endpointSchema = z.string().trim().url('must be a URL').refine((value) => {
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
}, 'must be https (http only on this machine: 127.0.0.1, localhost, [::1])');

export { OAUTH_PROVIDERS, type OAuthProvider } from './providers';

export const oauth2SettingsSchema = z.object({
  provider: z.enum(['microsoft365', 'google', 'custom']),
  /** Microsoft: the directory (tenant) ID or domain; "organizations" = any work or school account. */
  tenant: z.string().trim().regex(/^[A-Za-z0-9.-]{1,253}$/, 'a tenant ID (GUID), a domain, or "organizations"').default('organizations'),
  clientId: z.string().trim().min(1, 'give the application (client) ID'),
  /** Google desktop clients and the client-credentials flow have one; stored like a password. */
  clientSecret: z.string().min(1).nullable().default(null),
  /**
   * App-only with a certificate instead of a secret (Microsoft's recommendation): the name of a
   * stored certificate whose key signs the client assertion (RFC 7523); its public part is
   * uploaded to the app registration.
   */
  certificate: z.string().min(1).nullable().default(null),
  /** Microsoft: the sign-in host for sovereign clouds and tests; null = https://login.microsoftonline.com. */
  authority: endpointSchema.nullable().default(null),
  /** How the admin signs in: a browser on this machine (PKCE), a code entered on any device, or app-only. */
  flow: z.enum(['browser', 'device', 'app']),
  /** Only for "custom"; the presets fill these in. */
  authorizationEndpoint: endpointSchema.nullable().default(null),
  tokenEndpoint: endpointSchema.nullable().default(null),
  deviceEndpoint: endpointSchema.nullable().default(null),
  /** RFC 7009 token revocation, used at sign-out (custom providers; the presets know theirs). */
  revocationEndpoint: endpointSchema.nullable().default(null),
  /** null = the provider's scope. */
  scope: z.string().trim().min(1).nullable().default(null),
}).strict().superRefine((value, ctx) => {
  if (value.provider === 'custom') {
    if (!value.tokenEndpoint) ctx.addIssue({ code: 'custom', message: 'a custom provider needs its token endpoint', path: ['tokenEndpoint'] });
    if (value.flow === 'browser' && !value.authorizationEndpoint) ctx.addIssue({ code: 'custom', message: 'the browser sign-in needs the authorization endpoint', path: ['authorizationEndpoint'] });
    if (value.flow === 'device' && !value.deviceEndpoint) ctx.addIssue({ code: 'custom', message: 'the device-code sign-in needs the device authorization endpoint', path: ['deviceEndpoint'] });
    if (!value.scope) ctx.addIssue({ code: 'custom', message: 'a custom provider needs the scope to ask for', path: ['scope'] });
  }
  if (value.certificate !== null && value.flow !== 'app') ctx.addIssue({ code: 'custom', message: 'a certificate signs in only app-only (client credentials)', path: ['certificate'] });
  if (value.certificate !== null && value.clientSecret !== null) ctx.addIssue({ code: 'custom', message: 'give a client secret or a certificate, not both', path: ['certificate'] });
  if (value.provider === 'google' && value.flow !== 'browser') {
    ctx.addIssue({ code: 'custom', message: 'Google allows the Gmail scope only with the browser sign-in', path: ['flow'] });
  }
});
export type OAuth2Settings = z.output<typeof oauth2SettingsSchema>;

/** The endpoints and scope a sign-in uses: the preset's (with the tenant) or the custom ones. */
export function oauthEndpoints(settings: OAuth2Settings): { authorization: string | null; token: string; device: string | null; revocation: string | null; scope: string; redirectHost: string } {
  if (settings.provider === 'custom') {
    return { authorization: settings.authorizationEndpoint, token: settings.tokenEndpoint ?? '', device: settings.deviceEndpoint, revocation: settings.revocationEndpoint ?? null, scope: settings.scope ?? '', redirectHost: '127.0.0.1' };
  }
  const preset = OAUTH_PROVIDERS[settings.provider];
  const authority = settings.provider === 'microsoft365' && settings.authority ? settings.authority.replace(/\/+$/, '') : null;
  const tenant = (url: string) => (authority ? url.replace('https://login.microsoftonline.com', authority) : url).replace('{tenant}', encodeURIComponent(settings.tenant));
  const scope = settings.scope ?? (settings.flow === 'app' && preset.appScope ? preset.appScope : preset.scope);
  return { authorization: tenant(preset.authorizationEndpoint), token: tenant(preset.tokenEndpoint), device: preset.deviceEndpoint ? tenant(preset.deviceEndpoint) : null, revocation: preset.revocationEndpoint, scope, redirectHost: preset.redirectHost };
}

/**
 * Who a stored sign-in belongs to and where its tokens go: provider, tenant, client, endpoints,
 * scope, flow, mailbox and the smart host. A sign-in made for one identity is never used for
 * another (changing any of these drops it: OpenSSH's known_hosts rule). null = no OAuth2.
 */
export function signInIdentity(host: SmartHost | null): string | null {
  if (!host || host.authentication !== 'oauth2' || !host.oauth2) return null;
  const o = host.oauth2;
  const e = oauthEndpoints(o);
  return JSON.stringify([o.provider, o.tenant.toLowerCase(), o.clientId, o.flow, e.token, e.authorization, e.device, e.scope, (host.user ?? '').toLowerCase(), host.host.toLowerCase(), host.port, host.security,
    ...(host.transport === 'graph' ? ['graph', host.graphUrl ?? GRAPH_URL] : []), ...(o.certificate ? [o.certificate] : [])]);
}

export const smartHostSchema = z.object({
  /** Host name, or an address in brackets ("[192.0.2.25]") as IIS wrote it. */
  host: z.string().trim().min(1, 'give the smart host').transform((h) => h.replace(/^\[(.*)\]$/, '$1')),
  port: portSchema,
  /** none (not recommended), STARTTLS required, or implicit TLS (465). */
  security: z.enum(['none', 'starttls', 'tls']),
  /** Verify the smart host's certificate (on by default; off only for a smart host you control). */
  verifyCertificate: z.boolean(),
  /** none, basic (user and password), or oauth2 (XOAUTH2 with a token; the user is the mailbox). */
  authentication: z.enum(['none', 'basic', 'oauth2']),
  user: z.string().trim().min(1).nullable(),
  /** Stored in the store only; config export omits it unless --with-secrets. */
  password: z.string().min(1).nullable(),
  /** A certificate the admin trusted by its fingerprint (PEM): only it is accepted, whatever its issuer or name. */
  trustedCertificate: z.string().min(1).nullable().default(null),
  oauth2: oauth2SettingsSchema.nullable().default(null),
  /**
   * smtp: an SMTP relay (host, port, security). graph: Microsoft Graph sendMail as the mailbox in
   * `user` (works where SMTP AUTH is switched off); needs OAuth2 with Microsoft 365.
   */
  transport: z.enum(['smtp', 'graph']).default('smtp'),
  /** Microsoft Graph's address (sovereign clouds, tests); null = https://graph.microsoft.com. */
  graphUrl: endpointSchema.nullable().default(null),
  /** A stored certificate presented to the smart host (a certificate-based Microsoft 365 connector); null = none. */
  clientCertificate: z.string().min(1).nullable().default(null),
  /** The provider's caps, kept by waiting in the queue (Microsoft 365 mailboxes: 30 a minute, 10,000 recipients a day); null = none. */
  maxMessagesPerMinute: z.number().int().min(1).max(100_000).nullable().default(null),
  maxRecipientsPerDay: z.number().int().min(1).max(100_000_000).nullable().default(null),
}).strict().superRefine((value, ctx) => {
  if (value.transport === 'graph') {
    if (value.authentication !== 'oauth2') ctx.addIssue({ code: 'custom', message: 'Microsoft Graph signs in with OAuth2 (app-only or as the mailbox)', path: ['authentication'] });
    if (value.oauth2 && value.oauth2.provider === 'google') ctx.addIssue({ code: 'custom', message: 'Microsoft Graph needs a Microsoft 365 (or custom) sign-in', path: ['oauth2', 'provider'] });
  }
  if (value.authentication === 'basic' && !value.user) ctx.addIssue({ code: 'custom', message: 'basic authentication needs a user name', path: ['user'] });
  if (value.authentication === 'oauth2') {
    if (!value.user) ctx.addIssue({ code: 'custom', message: 'OAuth2 needs the mailbox to send as (the account that signs in)', path: ['user'] });
    if (!value.oauth2) ctx.addIssue({ code: 'custom', message: 'OAuth2 needs the provider and the application (client) ID', path: ['oauth2'] });
    if (value.security === 'none') ctx.addIssue({ code: 'custom', message: 'a token is never sent unencrypted: choose STARTTLS or implicit TLS', path: ['security'] });
  }
});
export type SmartHost = z.output<typeof smartHostSchema>;

/** How a route's sign-in is stored and named: "Server::Route" (the server's own smart host: the server's name). */
export const ROUTE_SEPARATOR = '::';
export function signInKey(server: string, route: string | null): string {
  return route === null ? server : `${server}${ROUTE_SEPARATOR}${route}`;
}

/** Every smart host of a server's delivery settings: the default one and each route's, with the route's name (null = default). */
export function smartHostsOf(delivery: Pick<DeliverySettings, 'smartHost' | 'routes'>): Array<{ route: string | null; host: SmartHost }> {
  return [
    ...(delivery.smartHost ? [{ route: null, host: delivery.smartHost }] : []),
    ...delivery.routes.flatMap((r) => (r.smartHost ? [{ route: r.name, host: r.smartHost }] : [])),
  ];
}

/** Delivery settings with every smart host (default and routes) replaced by `map`'s result. */
export function mapSmartHosts<D extends { smartHost: unknown; routes?: unknown }>(delivery: D, map: (host: Record<string, unknown>, route: string | null) => unknown): D {
  const one = (host: unknown, route: string | null) => (host && typeof host === 'object' ? map(host as Record<string, unknown>, route) : host);
  const routes = Array.isArray(delivery.routes)
    ? (delivery.routes as Array<Record<string, unknown>>).map((r) => (r && typeof r === 'object' ? { ...r, smartHost: one(r.smartHost, String(r.name)) } : r))
    : delivery.routes;
  return { ...delivery, smartHost: one(delivery.smartHost, null), ...(routes === undefined ? {} : { routes }) };
}

export { GRAPH_URL, graphScope, SMART_HOST_PRESETS, type SmartHostPreset } from './providers';

export const retryMinutesSchema = z.object({
  first: z.number().min(0.01).max(10_080),
  second: z.number().min(0.01).max(10_080),
  third: z.number().min(0.01).max(10_080),
  subsequent: z.number().min(0.01).max(10_080),
}).strict();

/** Reply codes a failover reacts to: "5.7.139" (enhanced), "535" (basic), or "any" (any reply that is not delivered). */
const failoverCodeSchema = z.string().trim().regex(/^(any|[245]\d\d|[245]\.\d{1,3}\.\d{1,3})$/, 'a reply code such as 5.7.139, 4.7.500 or 535, or "any"');

export const ROUTE_NAME_RE = /^[\w .@-]{1,64}$/;

/**
 * A route: mail that matches it (every list given must match; an empty list matches anything)
 * leaves through its own transport instead of the server's smart host. The first matching route
 * wins; mail no route matches takes the smart host (the default route) or goes directly by MX.
 */
export const deliveryRouteSchema = z.object({
  name: z.string().trim().regex(ROUTE_NAME_RE, '1 to 64 letters, digits, spaces, dots, @, _ or -').refine((n) => n.toLowerCase() !== 'default', '"default" names the smart host route'),
  match: z.object({
    /** Envelope senders: addresses or @domain. */
    senders: z.array(senderPatternSchema).max(100).default([]),
    /** Users who signed in (names as on the Users page). */
    users: z.array(z.string().trim().min(1)).max(100).default([]),
    /** Trusted devices (names as on Access → Trusted devices). */
    devices: z.array(z.string().trim().min(1)).max(100).default([]),
    /** Recipient domains (sub-domains too). */
    recipientDomains: z.array(domainSchema).max(100).default([]),
  }).strict().default({ senders: [], users: [], devices: [], recipientDomains: [] }),
  /** The route's transport: an SMTP smart host (password or OAuth2) or Microsoft Graph; null = directly by MX. */
  smartHost: z.lazy(() => smartHostSchema).nullable().default(null),
  /** Try another route ("default" = the smart host) at once when this one answers one of these codes. */
  failover: z.object({ route: z.string().trim().min(1), on: z.array(failoverCodeSchema).min(1, 'name at least one reply code') }).strict().nullable().default(null),
  /** Send as the route's mailbox: envelope sender and From become the mailbox, the original From becomes Reply-To. */
  sendAsMailbox: z.boolean().default(false),
}).strict();
export type DeliveryRoute = z.output<typeof deliveryRouteSchema>;

/** The fields of the Delivery tab (without the cross-checks; patches are partial objects of it). */
export const deliverySettingsObjectSchema = z.object({
  /** Drop folder for accepted (local) domains; null = "drop" inside the data folder. */
  dropFolder: folderSchema.nullable(),
  /** Pickup folder: .eml files dropped here are queued (IIS); "" = off, null = "pickup" in the data folder. */
  pickupFolder: z.union([z.literal(''), folderSchema]).nullable(),
  maxHopCount: z.number().int().min(1).max(500),
  masqueradeDomain: domainSchema.nullable(),
  /** External DNS servers ("192.0.2.53", "[2001:db8::53]:53", "127.0.0.1:5353"); empty = the system's. */
  dnsServers: z.array(z.string().trim().refine(isDnsServer, 'must be an IP address with an optional :port')).max(8),
  /** Hold mail for other domains in the queue (an ISP outage, maintenance); local domains still deliver. */
  holdRemote: z.boolean(),
  /** Mail for other domains goes here; null = direct delivery by MX. */
  smartHost: smartHostSchema.nullable(),
  /** "Attempt direct delivery before sending to smart host". */
  attemptDirectFirst: z.boolean(),
  /** Minutes before the first, second, third and each later retry (IIS: 15, 30, 60, 240). */
  retryMinutes: retryMinutesSchema,
  /** Tell the sender after this long that the message is delayed, and give up after expirationHours. */
  delayNotificationHours: z.number().min(0.0001).max(720),
  expirationHours: z.number().min(0.001).max(2160),
  /** TCP port for direct delivery to MX hosts (IIS: Outbound connections → TCP port); 25 on the Internet. */
  outboundPort: portSchema,
  /** Outbound connections at once, overall; and the time-out of one outbound attempt. */
  outboundConnections: z.number().int().min(1).max(500),
  /** Outbound connections at once to one destination (a domain's MX hosts, the smart host, an internal server). */
  outboundConnectionsPerDomain: z.number().int().min(1).max(500),
  outboundTimeoutSeconds: z.number().int().min(5).max(3600),
  /** Routes by sender, user, device and recipient domain, in order (the smart host is the default route). */
  routes: z.array(deliveryRouteSchema).max(50).default([]),
}).strict();

export const deliverySettingsSchema = deliverySettingsObjectSchema.superRefine((delivery, ctx) => {
  const names = new Set<string>();
  delivery.routes.forEach((route, i) => {
    if (names.has(route.name.toLowerCase())) ctx.addIssue({ code: 'custom', message: `a route named "${route.name}" is already in the list`, path: ['routes', i, 'name'] });
    names.add(route.name.toLowerCase());
  });
  delivery.routes.forEach((route, i) => {
    const target = route.failover?.route.toLowerCase();
    if (target === undefined) return;
    if (target === route.name.toLowerCase()) ctx.addIssue({ code: 'custom', message: 'a route cannot fail over to itself', path: ['routes', i, 'failover', 'route'] });
    else if (target === 'default' ? !delivery.smartHost : !names.has(target)) ctx.addIssue({ code: 'custom', message: `no route "${route.failover?.route}" to fail over to${target === 'default' ? ' (no smart host is set)' : ''}`, path: ['routes', i, 'failover', 'route'] });
  });
});
export type DeliverySettings = z.infer<typeof deliverySettingsSchema>;

export const serverStateSchema = z.enum(['started', 'stopped', 'paused']);
export type ServerState = z.infer<typeof serverStateSchema>;

export const virtualServerSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  bindAddress: bindAddressSchema,
  port: portSchema,
  /** Implicit-TLS port (465 typically); null = none. */
  tlsPort: portSchema.nullable(),
  fqdn: hostnameSchema,
  /** Simultaneous connections; null = unlimited. */
  maxConnections: z.number().int().min(1).max(100_000).nullable(),
  /** Idle timeout of a connection in seconds. */
  connectionTimeoutSeconds: z.number().int().min(5).max(3600),
  loggingEnabled: z.boolean(),
  state: serverStateSchema,
  access: accessSettingsSchema,
  messages: messageSettingsSchema,
  delivery: deliverySettingsSchema,
  connectionRules: z.array(addressRuleSchema),
  relayRules: z.array(addressRuleSchema),
  /** Name of the stored certificate used for STARTTLS and the implicit-TLS port. */
  certificate: z.string().min(1).nullable(),
  /** Text after "220 <FQDN> ESMTP" in the greeting; null = nothing (no product name is given away). */
  banner: bannerSchema,
}).strict();
export type VirtualServerConfig = z.output<typeof virtualServerSchema>;
export type VirtualServerInput = z.input<typeof virtualServerSchema>;

export const acceptedDomainSchema = z.object({
  domain: domainSchema,
  /** drop: write to the drop folder; forward: hand over to an internal mail server. */
  action: z.enum(['drop', 'forward']),
  /** host:port of the internal mail server when action is forward. */
  forwardTo: z.string().trim().min(1).nullable(),
}).strict().superRefine((value, ctx) => {
  if (value.action === 'forward' && !value.forwardTo) {
    ctx.addIssue({ code: 'custom', message: 'needs the internal server as host:port', path: ['forwardTo'] });
  }
});
export type AcceptedDomain = z.infer<typeof acceptedDomainSchema>;

/**
 * Old TLS (1.0/1.1) is for devices only: it applies on a listener nobody signs in to (no AUTH
 * method offered) and without "require strong encryption". A server users sign in to never
 * accepts it, whatever the check box says.
 */
export function legacyTlsAllowed(access: Pick<AccessSettings, 'allowLegacyTls' | 'requireStrongEncryption' | 'basicAuth' | 'cramMd5'>): boolean {
  return access.allowLegacyTls && !access.requireStrongEncryption && !access.basicAuth && !access.cramMd5;
}

export const DEFAULT_ACCESS: AccessSettings = {
  anonymous: false,
  basicAuth: true,
  basicRequiresTls: true,
  cramMd5: false,
  defaultDomain: null,
  requireSecureChannel: true,
  requireStrongEncryption: true,
  allowLegacyTls: false,
  connectionMode: 'all-except',
  relayMode: 'only-list',
  relayForAuthenticated: true,
  restrictSenders: false,
  reverseDnsForReceived: false,
  maxConnectionsPerAddress: 20,
  sniCertificates: [],
  lockout: DEFAULT_LOCKOUT,
  trustedDevices: [],
};

export const DEFAULT_MESSAGES: MessageSettings = {
  maxMessageBytes: 25 * MEBIBYTE,
  maxSessionBytes: null,
  maxMessagesPerConnection: 100,
  maxRecipientsPerMessage: 100,
  ndrCopyTo: null,
  badmailFolder: null,
};

export const DEFAULT_DELIVERY: DeliverySettings = {
  dropFolder: null,
  pickupFolder: '',
  maxHopCount: 30,
  masqueradeDomain: null,
  dnsServers: [],
  holdRemote: false,
  smartHost: null,
  attemptDirectFirst: false,
  retryMinutes: { first: 15, second: 30, third: 60, subsequent: 240 },
  delayNotificationHours: 12,
  expirationHours: 48,
  outboundPort: 25,
  outboundConnections: 20,
  outboundConnectionsPerDomain: 10,
  outboundTimeoutSeconds: 60,
  routes: [],
};

function isDnsServer(value: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed) return ipaddr.IPv6.isValid(bracketed[1] ?? '') && Number(bracketed[2] ?? 53) <= 65535;
  const v4 = /^([\d.]+)(?::(\d{1,5}))?$/.exec(value);
  if (v4) return ipaddr.IPv4.isValidFourPartDecimal(v4[1] ?? '') && Number(v4[2] ?? 53) <= 65535;
  return ipaddr.IPv6.isValid(value);
}

export const DEFAULT_SERVER_NAME = 'Default SMTP virtual server';
export const DEFAULT_SUBMISSION_PORT = 2525;
