// The AdminApi: every method the UI needs, with a zod schema for its argument and the type of its
// result. Electron IPC, the headless web bridge and the renderer's client are all derived from
// ADMIN_METHODS, so a method that one of them lacks is a compile error. Pure: zod and types only.
import { z } from 'zod';
import { type AcceptedDomain, acceptedDomainSchema, addressRuleSchema, emailSchema, serverStateSchema, type ServerState, type VirtualServerConfig, virtualServerSchema } from './settings';
import { type ConfigDocument, senderPatternSchema, userNameSchema } from './config';
import type { Decision } from './decision';
import type { UpstreamExplanation } from './upstream-replies';
import type { RelaydeskEvent, SessionEvent } from './events';

// ── result types ─────────────────────────────────────────────────────────────────────────

export interface ServerSummary {
  config: VirtualServerConfig;
  running: boolean;
  paused: boolean;
  listening: Array<{ address: string; port: number; mode: 'starttls' | 'implicit-tls' }>;
  bindFailures: Array<{ address: string; port: number; message: string }>;
  /** While it cannot listen for a cause that can pass (port in use, address not up yet): seconds between the engine's attempts; else null. */
  bindRetrySeconds: number | null;
  sessions: number;
}

export interface UserSummary {
  name: string; enabled: boolean; senders: string[]; cramMd5: boolean; createdAt: string;
  /** Sending limits (null = none). */
  perHour: number | null; recipientsPerDay: number | null;
}

const userLimitSchema = z.number().int().min(1, 'must be at least 1 (or off)').max(10_000_000).nullable();

export interface CertificateSummary {
  name: string;
  subject: string;
  issuer: string;
  altNames: string[];
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
  keyType: string;
  selfSigned: boolean;
  /** Days until expiry (negative once expired). */
  daysLeft: number;
  /** Servers using it. */
  assignedTo: string[];
}

export const QUEUE_STATUSES = ['queued', 'retrying', 'waiting-for-sign-in', 'frozen', 'delivered', 'failed'] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];

export interface QueueSummary {
  id: string;
  server: string;
  receivedAt: string;
  from: string;
  size: number;
  state: 'queued' | 'done' | 'frozen';
  /** What the admin reads: queued (not tried yet), retrying, waiting for sign-in, frozen, delivered, failed (report sent). */
  status: QueueStatus;
  /** The body: still in the spool, kept as a copy after delivery, or removed (history only). */
  body: 'spool' | 'kept' | 'removed';
  finishedAt: string | null;
  recipients: Array<{ address: string; route: 'local' | 'remote'; state: 'queued' | 'delivered' | 'failed'; attempts: number; lastReply: string | null; explanation: UpstreamExplanation | null }>;
}

/** One message in full: the envelope, each recipient's attempts and next try, and the header section. */
export interface QueuePage {
  messages: QueueSummary[];
  /** The cursor of the next page, or null on the last one. */
  next: string | null;
  /** How many messages match the filter, when the index counts them without a walk (a state filter, or none); null otherwise. */
  total: number | null;
  /** Every message in the index by stored state (not only this page's). */
  counts: { queued: number; frozen: number; done: number };
}

export interface QueueDetails extends QueueSummary {
  clientAddress: string;
  authUser: string | null;
  nextAttempts: Record<string, string | null>;
  headers: string;
}

export type LoggedEvent = SessionEvent & { id: number; user: string | null };

export interface LiveSession {
  id: string;
  server: string;
  address: string;
  reverseName: string | null;
  state: string;
  tlsProtocol: string | null;
  tlsCipher: string | null;
  user: string | null;
  /** The trusted device the client is (when it did not sign in). */
  device: string | null;
  mechanism: string | null;
  startedAt: string;
  bytesIn: number;
  bytesOut: number;
  messages: number;
}

export interface Counters {
  since: string;
  perServer: Record<string, { sessions: number; messagesAccepted: number; bytesAccepted: number; refusals: Record<string, number> }>;
  /** Sessions and refusals per minute for the last hour, oldest first. */
  perMinute: Array<{ minute: string; sessions: number; refusals: number }>;
}

export interface SimulationStep {
  step: 'connect' | 'ehlo' | 'auth' | 'mail' | 'rcpt';
  /** What the client sent, e.g. "RCPT TO:<x@y>". */
  command: string;
  decision: Decision;
}

export interface SimulationResult {
  steps: SimulationStep[];
  /** AUTH mechanisms the EHLO reply would advertise. */
  advertisedAuth: string[];
  /** True when every recipient would be accepted. */
  accepted: boolean;
  /** The trusted device the address belongs to (when the client does not sign in), by name. */
  device: string | null;
}

export interface ProbeCheck {
  id: string;
  title: string;
  pass: boolean;
  /** What was seen, e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384". */
  detail: string;
  /** What to change when it fails. */
  advice: string | null;
}

export interface ProbeReport { server: string; target: string; checks: ProbeCheck[]; passed: boolean }

/** One step of "Test route": what was tried, whether it worked, what was seen, and the fix for a known reply. */
export interface RouteTestStep { title: string; ok: boolean; detail: string; explanation: UpstreamExplanation | null }
export interface RouteTestReport { server: string; route: string; to: string; steps: RouteTestStep[]; passed: boolean }

/** The certificate a smart host presents, for the admin to trust by its SHA-256 fingerprint. */
export interface SmartHostCertificate {
  subject: string; issuer: string; validTo: string; fingerprint256: string; pem: string;
  /** Verifies against the system's CAs for the smart host's name (then no pin is needed). */
  verifies: boolean; verifyError: string | null;
}

/** A smart host's OAuth2 sign-in, as the admin sees it (never a token). */
export interface SmartHostSignInStatus {
  server: string;
  provider: 'microsoft365' | 'google' | 'custom';
  flow: 'browser' | 'device' | 'app';
  /** The mailbox that signed in (XOAUTH2 user). */
  account: string | null;
  signedIn: boolean;
  /** The refresh was refused (consent revoked, password changed, token expired): mail waits until a new sign-in. */
  needsSignIn: boolean;
  signedInAt: string | null;
  lastRefreshAt: string | null;
  accessTokenExpiresAt: string | null;
  lastError: string | null;
  /** Where the refresh token is sealed: "key file" or "OS keychain". */
  secretStore: string;
  /** A sign-in in progress: the URL to open, or the code to enter. */
  pending: null | { flow: 'browser' | 'device'; url: string | null; userCode: string | null; verificationUri: string | null; expiresAt: string | null };
}

export interface IisImportPreview {
  servers: Array<{ name: string; listen: string; risk: { title: string; why: string } | null }>;
  domains: AcceptedDomain[];
  rows: Array<{ server: string; setting: string; iis: string; relaydesk: string; status: 'as-is' | 'changed' | 'not-imported'; note: string | null }>;
}

export interface FqdnCheck { fqdn: string; addresses: string[]; localAddresses: string[]; pointsHere: boolean; message: string }

/** Retention and disk (one place): the live log, the queue's history, kept copies, and the free-space floor. */
export interface LogSettings {
  /** Log events older than this are deleted; and beyond maxEvents the oldest go. */
  retentionDays: number;
  maxEvents: number;
  /** Records of finished messages (envelope, attempts, final reply) are kept this long. */
  queueHistoryDays: number;
  /** Keep a copy of each delivered message's body this long; 0 = remove it at once. */
  keepDeliveredDays: number;
  /** New mail is refused (452 4.3.1 at MAIL FROM) while the data folder's disk has less free than the smaller of these. */
  minFreeMiB: number;
  minFreePercent: number;
}

export const logSettingsSchema = z.object({
  retentionDays: z.number().int().min(1).max(3650),
  maxEvents: z.number().int().min(1000).max(50_000_000),
  queueHistoryDays: z.number().int().min(1).max(3650),
  keepDeliveredDays: z.number().int().min(0).max(3650),
  minFreeMiB: z.number().int().min(0).max(10_000_000),
  minFreePercent: z.number().min(0).max(100),
}).strict().partial();

/** A condition that needs the admin, as the engine observes it now (not a saved setting). */
export interface ActiveWarning {
  /** Stable key, e.g. "disk-low" or "sign-in:Default SMTP virtual server". */
  id: string;
  /** The virtual server or certificate it concerns, for the pages that show their own. */
  server?: string;
  certificate?: string;
  /** Where the admin sees more (a console route such as "queues?state=failed"). */
  link?: string;
  message: string;
  /** What to do about it. */
  action: string;
  since: string;
}

// ── method table ─────────────────────────────────────────────────────────────────────────

const name = z.object({ name: z.string().min(1, 'must not be empty') });
const nothing = z.object({}).strict();

const logFilterSchema = z.object({
  server: z.string().optional(),
  address: z.string().optional(),
  user: z.string().optional(),
  verdict: z.enum(['allow', 'refuse', 'defer']).optional(),
  type: z.string().optional(),
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  text: z.string().max(200).optional(),
  session: z.string().optional(),
  /** Newest first: events with an id below this one. */
  beforeId: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(5000).default(500),
}).strict();
export type LogFilter = z.input<typeof logFilterSchema>;

const passwordSchema = z.string().min(8, 'must have at least 8 characters').max(1024);

/** method<Result>()(inputSchema): the input type is inferred from the schema, the result is declared. */
function method<O>() {
  return <I extends z.ZodType>(input: I) => ({ input, output: undefined as unknown as O });
}

export const simulationInputSchema = z.object({
  server: z.string().min(1),
  /** Simulate against these (unapplied) settings instead of the stored ones: what Apply would do. */
  draft: virtualServerSchema.optional(),
  address: z.string().trim().min(1, 'give the client address'),
  reverseName: z.string().trim().optional(),
  user: z.string().trim().optional(),
  tls: z.boolean(),
  mailFrom: z.string().trim(),
  rcptTo: z.array(emailSchema).min(1, 'give at least one recipient').max(100),
}).strict();
export type SimulationInput = z.input<typeof simulationInputSchema>;

export const ADMIN_METHODS = {
  'servers.list': method<ServerSummary[]>()(nothing),
  'servers.get': method<VirtualServerConfig>()(name),
  'servers.create': method<VirtualServerConfig>()(z.object({ server: virtualServerSchema })),
  'servers.update': method<VirtualServerConfig>()(z.object({ name: z.string().min(1), patch: z.record(z.string(), z.unknown()) })),
  'servers.delete': method<null>()(name),
  'servers.setState': method<ServerSummary>()(z.object({ name: z.string().min(1), state: serverStateSchema })),
  /** Parse "10.0.0.0/8", "192.0.2.7/255.255.255.0", "::1" or "office.example" into a list entry. */
  'servers.validateRule': method<z.output<typeof addressRuleSchema>>()(z.object({ text: z.string().min(1, 'must not be empty') })),

  'users.list': method<UserSummary[]>()(nothing),
  'users.add': method<UserSummary>()(z.object({ name: userNameSchema, password: passwordSchema, senders: z.array(senderPatternSchema).default([]), cramMd5: z.boolean().default(false) })),
  'users.update': method<UserSummary>()(z.object({
    name: z.string().min(1), enabled: z.boolean().optional(), senders: z.array(senderPatternSchema).optional(), password: passwordSchema.optional(), cramMd5: z.boolean().optional(),
    perHour: userLimitSchema.optional(), recipientsPerDay: userLimitSchema.optional(),
  })),
  'users.remove': method<null>()(name),

  'domains.list': method<AcceptedDomain[]>()(nothing),
  'domains.add': method<AcceptedDomain>()(acceptedDomainSchema),
  'domains.remove': method<null>()(z.object({ domain: z.string().min(1) })),

  'certificates.list': method<CertificateSummary[]>()(nothing),
  'certificates.createSelfSigned': method<CertificateSummary>()(z.object({
    name: z.string().trim().min(1).max(100), commonName: z.string().trim().min(1).max(253),
    altNames: z.array(z.string().trim().min(1)).default([]), days: z.number().int().min(1).max(3650).default(825), assignTo: z.string().optional(),
  })),
  'certificates.importPem': method<CertificateSummary>()(z.object({
    name: z.string().trim().min(1).max(100), keyPem: z.string().min(1, 'paste the PEM private key'),
    certPem: z.string().min(1, 'paste the PEM certificate chain'), allowExpired: z.boolean().default(false), assignTo: z.string().optional(),
  })),
  'certificates.remove': method<null>()(name),
  /** A new key and a CSR (PEM) for an external CA; completed later with the CA's answer. */
  'certificates.request': method<{ csrPem: string }>()(z.object({
    name: z.string().trim().min(1).max(100), commonName: z.string().trim().min(1).max(253),
    altNames: z.array(z.string().trim().min(1)).default([]), key: z.enum(['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384']).default('rsa2048'),
  })),
  'certificates.requests': method<Array<{ name: string; commonName: string; altNames: string[]; keySpec: string; csrPem: string; createdAt: string }>>()(nothing),
  'certificates.complete': method<CertificateSummary>()(z.object({ name: z.string().min(1), answer: z.string().min(1, "paste the CA's answer (PEM or PKCS#7)"), assignTo: z.string().optional() })),
  'certificates.cancelRequest': method<null>()(name),
  /** PKCS#12/PFX as base64 (the UI reads the file), with its password. */
  'certificates.importPfx': method<CertificateSummary>()(z.object({
    name: z.string().trim().min(1).max(100), pfxBase64: z.string().min(1, 'choose the PFX file'), password: z.string(),
    allowExpired: z.boolean().default(false), assignTo: z.string().optional(),
  })),
  /** PEM of the certificate with its chain (never the key). */
  'certificates.exportPem': method<string>()(name),

  /** destination: a recipient domain (subdomains too), or "local" / "remote". */
  /**
   * One page of the queue, oldest first: after a cursor (`next` of the previous page) or from a
   * position (`offset`, for a scrolled list); counts by state come from the index.
   */
  'queue.list': method<QueuePage>()(z.object({
    state: z.enum(['queued', 'done', 'frozen']).optional(), status: z.enum(QUEUE_STATUSES).optional(), destination: z.string().trim().max(253).optional(),
    limit: z.number().int().min(1).max(1000).default(200), after: z.string().max(100).optional(), offset: z.number().int().min(0).max(1_000_000_000).optional(),
  }).refine((page) => page.after === undefined || page.offset === undefined, { message: 'give either a cursor (after) or a position (offset), not both', path: ['offset'] })),
  'queue.show': method<QueueDetails>()(z.object({ id: z.string().min(1) })),
  /** Retry now, freeze, thaw, delete silently, or delete and tell the sender. */
  'queue.action': method<null>()(z.object({ id: z.string().min(1), action: z.enum(['retry', 'freeze', 'thaw', 'delete', 'delete-with-report']) })),

  /** Connect to the server's smart host as delivery would and show its certificate. */
  'smarthost.fetchCertificate': method<SmartHostCertificate>()(z.object({ server: z.string().min(1) })),
  /** Trust the presented certificate if its SHA-256 fingerprint is this one; null stops trusting it. */
  'smarthost.trust': method<SmartHostCertificate | null>()(z.object({ server: z.string().min(1), fingerprint: z.string().trim().min(1, 'give the SHA-256 fingerprint').nullable() })),

  /** OAuth2: the sign-in of the server's smart host. */
  'smarthost.status': method<SmartHostSignInStatus>()(z.object({ server: z.string().min(1) })),
  /** Start the configured sign-in; returns once the URL to open or the device code is known (the app-only flow: when done). */
  'smarthost.signIn': method<SmartHostSignInStatus>()(z.object({ server: z.string().min(1) })),
  'smarthost.signOut': method<SmartHostSignInStatus>()(z.object({ server: z.string().min(1) })),

  'log.query': method<LoggedEvent[]>()(logFilterSchema),
  'log.transcript': method<string[]>()(z.object({ session: z.string().min(1) })),
  'log.export': method<string>()(z.object({ format: z.enum(['w3c', 'csv']), filter: logFilterSchema.default({ limit: 5000 }) })),
  'log.getSettings': method<LogSettings>()(nothing),
  /** Partial: the fields given change, the rest stay. */
  'log.setSettings': method<LogSettings>()(logSettingsSchema),
  /** What needs the admin now: low disk space, a lost smart host sign-in, a refused token refresh. */
  'status.warnings': method<ActiveWarning[]>()(nothing),
  /** The message as stored (while queued, or a kept copy after delivery); at most 1 MiB of it. */
  'queue.source': method<{ id: string; body: 'spool' | 'kept' | 'removed'; text: string; truncated: boolean }>()(z.object({ id: z.string().min(1) })),

  'sessions.list': method<LiveSession[]>()(nothing),
  'sessions.terminate': method<{ terminated: boolean }>()(z.object({ server: z.string().min(1), id: z.string().min(1) })),

  'counters.get': method<Counters>()(nothing),

  'policy.simulate': method<SimulationResult>()(simulationInputSchema),
  /** sourceAddress: probe from that address of this machine (a trusted device's, on loopback). */
  'probe.run': method<ProbeReport>()(z.object({ server: z.string().min(1), user: z.string().optional(), password: z.string().optional(), sourceAddress: z.string().trim().optional() })),

  /** Sign in to a route's provider and send one test message to `to`, step by step (route: null = the default route). */
  'route.test': method<RouteTestReport>()(z.object({ server: z.string().min(1), route: z.string().trim().min(1).nullable().default(null), to: emailSchema })),

  /** IIS 6 SMTP settings (MetaBase.xml or the JSON of iis-export.ps1): what would be imported, setting by setting. */
  'import.iisPreview': method<IisImportPreview>()(z.object({ content: z.string().min(1, 'choose MetaBase.xml or the export file').max(50 * 1024 * 1024) })),
  /** Import them: every server and domain, or nothing; confirmRisks is needed for an open relay or a lock-out. */
  /** The PowerShell script that exports IIS SMTP settings on the old Windows machine. */
  'import.iisScript': method<string>()(nothing),
  'import.iisApply': method<{ created: string[] }>()(z.object({ content: z.string().min(1).max(50 * 1024 * 1024), confirmRisks: z.boolean().default(false) })),

  'dns.checkFqdn': method<FqdnCheck>()(name),
  /** The system resolver (hosts file included, as Check DNS): the addresses of a name. */
  'dns.lookup': method<string[]>()(z.object({ hostname: z.string().trim().min(1).max(253) })),
  /** Where mail for a domain goes (MX, or A/AAAA), with the external DNS servers of the first server: e.g. a tenant's *.mail.protection.outlook.com. */
  'dns.mx': method<Array<{ host: string; addresses: string[] }>>()(z.object({ domain: z.string().trim().min(1).max(253) })),
  /** This machine's addresses, per interface (for the IP address box and what clients should use). */
  'system.addresses': method<Array<{ address: string; family: 'IPv4' | 'IPv6'; interface: string; internal: boolean }>>()(nothing),
  /** The whole configuration without secrets (they never cross the AdminApi; `config export --with-secrets` reads the store). */
  'config.export': method<ConfigDocument>()(nothing),
  /** A whole or partial configuration (see completeConfigDocument), validated whole and applied atomically. */
  'config.import': method<{ servers: string[] }>()(z.object({ document: z.unknown(), merge: z.boolean().default(false) })),
  /** What deleting a virtual server takes with it: its queued messages and its log history. */
  'servers.dependents': method<{ queued: number; finished: number; events: number }>()(name),
};

export type AdminMethodName = keyof typeof ADMIN_METHODS;
export const ADMIN_METHOD_NAMES = Object.keys(ADMIN_METHODS) as AdminMethodName[];

export type MethodInput<M extends AdminMethodName> = z.input<(typeof ADMIN_METHODS)[M]['input']>;
export type ParsedInput<M extends AdminMethodName> = z.output<(typeof ADMIN_METHODS)[M]['input']>;
export type MethodOutput<M extends AdminMethodName> = (typeof ADMIN_METHODS)[M]['output'];

/** What the server implements (arguments already parsed). */
export type AdminApiHandlers = { [M in AdminMethodName]: (input: ParsedInput<M>) => Promise<MethodOutput<M>> };

/** What a client calls (arguments as the user typed them). */
export type AdminApi = { [M in AdminMethodName]: (input: MethodInput<M>) => Promise<MethodOutput<M>> };

export interface ApiError { code: string; message: string; field?: string }
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export type { RelaydeskEvent, ServerState };
