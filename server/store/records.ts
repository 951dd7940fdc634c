// What the store reads and writes: records of each table, their rows as SQLite returns them,
// and the mappers between them. Shared by the store's table modules (store.ts is the facade).
import { z } from 'zod';
import { accessSettingsSchema, deliverySettingsObjectSchema, messageSettingsSchema, virtualServerSchema } from '../contract/settings';
import type { LogView } from '../contract/log-view';

export interface EventQuery extends LogView {
  /** Newest first: events with an id below this one; oldest first: above afterId. */
  beforeId?: number | undefined; afterId?: number | undefined; limit: number; oldestFirst?: boolean | undefined;
}

export interface StoredUser {
  name: string;
  passwordHash: string;
  cramSecret: string | null;
  enabled: boolean;
  senders: string[];
  createdAt: string;
  /** Sending limits (null = none): messages per hour, recipients per day. */
  perHour: number | null;
  recipientsPerDay: number | null;
}

export interface StoredCertificate {
  id: number;
  name: string;
  certPem: string;
  chainPem: string;
  keyPem: string;
  fingerprintSha256: string;
  subject: string;
  notBefore: string;
  notAfter: string;
}

export type NewCertificate = Omit<StoredCertificate, 'id'>;

export interface QueuedRecipient { address: string; domain: string; route: 'local' | 'remote' }

export interface AcceptedMessage {
  id: string;
  serverName: string;
  receivedAt: string;
  mailFrom: string;
  size: number;
  clientAddress: string;
  authUser: string | null;
  spoolPath: string;
  /** Where the message starts in the spool file (after the envelope line). */
  bodyOffset: number;
  /** Its length there when the file holds several messages (group commit); null: to the end of the file. */
  bodyLength: number | null;
  recipients: QueuedRecipient[];
}

/** Where a message's body is: in the spool (not finished yet), kept as a copy after delivery, or removed. */
export type MessageBody = 'spool' | 'kept' | 'removed';

export interface QueueEntry extends Omit<AcceptedMessage, 'recipients'> {
  state: 'queued' | 'done' | 'frozen';
  body: MessageBody;
  /** When the last recipient was delivered or failed (the history's clock); null while queued. */
  finishedAt: string | null;
  recipients: Array<QueuedRecipient & { state: 'queued' | 'delivered' | 'failed'; attempts: number; lastReply: string | null; nextAttemptAt: string | null; delayNotified: boolean }>;
}

/** A user's sending limit: a positive whole number, or null for none. */
export const userLimitSchema = z.number().int().min(1, 'must be at least 1 (or off)').max(10_000_000).nullable();

export interface ServerRow {
  id: number; name: string; bind_address: string; port: number; tls_port: number | null; fqdn: string;
  max_connections: number | null; connection_timeout_seconds: number; logging_enabled: number; state: string;
  access_json: string; messages_json: string; delivery_json: string; certificate_name: string | null; banner: string | null;
}

export interface UserRow { name: string; password_hash: string; cram_secret: string | null; enabled: number; senders_json: string; created_at: string; messages_per_hour: number | null; recipients_per_day: number | null }

export const patchSchema = virtualServerSchema.partial().extend({
  access: accessSettingsSchema.partial().optional(),
  messages: messageSettingsSchema.partial().optional(),
  delivery: deliverySettingsObjectSchema.partial().optional(),
}).strict();
export type VirtualServerPatch = z.input<typeof patchSchema>;

export interface CertificateRequest { name: string; commonName: string; altNames: string[]; keySpec: string; keyPem: string; csrPem: string; createdAt: string }
export interface CertificateRequestRow { name: string; common_name: string; alt_names_json: string; key_spec: string; key_pem: string; csr_pem: string; created_at: string }

export function requestFromRow(row: CertificateRequestRow): CertificateRequest {
  return { name: row.name, commonName: row.common_name, altNames: JSON.parse(row.alt_names_json) as string[], keySpec: row.key_spec, keyPem: row.key_pem, csrPem: row.csr_pem, createdAt: row.created_at };
}

export interface CertificateRow { id: number; name: string; cert_pem: string; chain_pem: string; key_pem: string; fingerprint_sha256: string; subject: string; not_before: string; not_after: string }
export interface StoredSignIn {
  serverName: string; account: string; refreshTokenSealed: string | null; signedInAt: string;
  lastRefreshAt: string | null; accessExpiresAt: string | null; needsSignIn: boolean; lastError: string | null;
}
export interface SignInRow {
  server_name: string; account: string; refresh_token_sealed: string | null; signed_in_at: string;
  last_refresh_at: string | null; access_expires_at: string | null; needs_sign_in: number; last_error: string | null;
}
export interface MessageRow { id: string; server_name: string; received_at: string; mail_from: string; size: number; client_address: string; auth_user: string | null; spool_path: string; body_offset: number; body_length: number | null; state: QueueEntry['state']; body: MessageBody; finished_at: string | null }
export interface RecipientRow { address: string; domain: string; route: 'local' | 'remote'; state: 'queued' | 'delivered' | 'failed'; attempts: number; last_reply: string | null; next_attempt_at: string | null; delay_notified: number }

export function userFromRow(row: UserRow): StoredUser {
  return {
    name: row.name, passwordHash: row.password_hash, cramSecret: row.cram_secret, enabled: row.enabled === 1, senders: JSON.parse(row.senders_json) as string[],
    createdAt: row.created_at, perHour: row.messages_per_hour, recipientsPerDay: row.recipients_per_day,
  };
}

export function certificateFromRow(row: CertificateRow): StoredCertificate {
  return { id: row.id, name: row.name, certPem: row.cert_pem, chainPem: row.chain_pem, keyPem: row.key_pem, fingerprintSha256: row.fingerprint_sha256, subject: row.subject, notBefore: row.not_before, notAfter: row.not_after };
}


export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
