// The whole configuration as one JSON document: what `relaydesk config export` prints and
// `config import` applies (atomically, or not at all). Secrets appear only when asked for.
import { z } from 'zod';
import { acceptedDomainSchema, bindAddressSchema, senderPatternSchema, virtualServerSchema } from './settings';

export { senderPatternSchema };

export const CONFIG_FORMAT = 'relaydesk-config';
export const CONFIG_VERSION = 1;

export const userNameSchema = z.string().trim().min(1, 'must not be empty').max(254, 'must be at most 254 characters')
  .regex(/^[^\s:]+$/, 'must not contain spaces or colons');


export const userExportSchema = z.object({
  name: userNameSchema,
  enabled: z.boolean(),
  senders: z.array(senderPatternSchema),
  cramMd5: z.boolean(),
  /** Sending limits; null (or left out) = none. */
  perHour: z.number().int().min(1).max(10_000_000).nullable().default(null),
  recipientsPerDay: z.number().int().min(1).max(10_000_000).nullable().default(null),
  /** scrypt hash; only in exports made with --with-secrets. */
  passwordHash: z.string().startsWith('scrypt$').optional(),
  /** CRAM-MD5 HMAC-MD5 contexts ("hmac-md5$…"; a plain password from older exports is converted); only with --with-secrets. */
  cramSecret: z.string().min(1).optional(),
}).strict();
export type UserExport = z.infer<typeof userExportSchema>;

export const certificateExportSchema = z.object({
  name: z.string().trim().min(1).max(100),
  certPem: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'must be a PEM certificate' }),
  chainPem: z.string(),
  /** PEM private key; only with --with-secrets. */
  keyPem: z.string().includes('PRIVATE KEY-----', { message: 'must be a PEM private key' }).optional(),
}).strict();
export type CertificateExport = z.infer<typeof certificateExportSchema>;

export const configDocumentSchema = z.object({
  format: z.literal(CONFIG_FORMAT),
  version: z.literal(CONFIG_VERSION),
  servers: z.array(virtualServerSchema),
  acceptedDomains: z.array(acceptedDomainSchema),
  users: z.array(userExportSchema),
  certificates: z.array(certificateExportSchema),
}).strict().superRefine((doc, ctx) => {
  const unique = (values: string[], path: string, what: string) => {
    const seen = new Set<string>();
    values.forEach((value, i) => {
      const key = value.toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `${what} "${value}" appears twice`, path: [path, i] });
      seen.add(key);
    });
  };
  unique(doc.servers.map((s) => s.name), 'servers', 'server');
  unique(doc.users.map((u) => u.name), 'users', 'user');
  unique(doc.certificates.map((c) => c.name), 'certificates', 'certificate');
  unique(doc.acceptedDomains.map((d) => d.domain), 'acceptedDomains', 'domain');
  const certificates = new Set(doc.certificates.map((c) => c.name));
  doc.servers.forEach((server, i) => {
    if (server.certificate !== null && !certificates.has(server.certificate)) {
      ctx.addIssue({ code: 'custom', message: `certificate "${server.certificate}" is not in the document`, path: ['servers', i, 'certificate'] });
    }
    const clash = findListenerConflict(server, doc.servers.slice(0, i));
    if (clash) ctx.addIssue({ code: 'custom', message: clash, path: ['servers', i, 'port'] });
  });
});
export type ConfigDocument = z.infer<typeof configDocumentSchema>;

interface Listener { name: string; bindAddress: z.output<typeof bindAddressSchema>; port: number; tlsPort: number | null }

/** Two servers on the same address and port (or one on "all" and one on an address) cannot both listen. */
export function findListenerConflict(server: Listener, others: readonly Listener[]): string | null {
  const ports = (s: Listener) => [s.port, s.tlsPort].filter((p): p is number => p !== null && p !== 0);
  const mine = ports(server);
  if (new Set(mine).size !== mine.length) return `port ${mine[0]} is used twice by this server`;
  for (const other of others) {
    if (other.name.toLowerCase() === server.name.toLowerCase()) continue;
    const overlap = ports(other).find((p) => mine.includes(p));
    if (overlap === undefined) continue;
    if (server.bindAddress === 'all' || other.bindAddress === 'all' || server.bindAddress === other.bindAddress) {
      const where = server.bindAddress === 'all' ? 'all addresses' : server.bindAddress;
      return `${where} port ${overlap} is already used by virtual server "${other.name}"`;
    }
  }
  return null;
}
