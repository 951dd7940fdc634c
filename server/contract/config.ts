// The whole configuration as one JSON document: what `relaydesk config export` prints and
// `config import` applies (atomically, or not at all). Secrets appear only when asked for.
import { z } from 'zod';
import { AdminError } from './errors';
import { acceptedDomainSchema, bindAddressSchema, senderPatternSchema, virtualServerSchema, type VirtualServerConfig } from './settings';

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

// ── partial documents ─────────────────────────────────────────────────────────────────────────

const SECTIONS = { servers: 'name', acceptedDomains: 'domain', users: 'name', certificates: 'name' } as const;
type Section = keyof typeof SECTIONS;

/** What a new user, domain or certificate entry is when the document leaves a setting out. */
const ENTRY_DEFAULTS: Record<Exclude<Section, 'servers'>, Record<string, unknown>> = {
  acceptedDomains: { action: 'drop', forwardTo: null },
  users: { enabled: true, senders: [], cramMd5: false, perHour: null, recipientsPerDay: null },
  certificates: { chainPem: '' },
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; values, lists and null replace. */
function merged(base: unknown, given: unknown): unknown {
  if (!isObject(base) || !isObject(given)) return given;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(given)) out[key] = merged(out[key], value);
  return out;
}

/**
 * A partial configuration completed into a whole one, for `config import`. A section the
 * document leaves out stays as it is. Without `merge` a section given replaces the current one
 * and its entries take the documented defaults for what they leave out (a new server: those of
 * `relaydesk server add`); with `merge`, entries are matched by name (domain) and what they
 * leave out keeps its current value, and entries not named stay. The result is then validated
 * as a whole (configDocumentSchema) before anything is written.
 */
export function completeConfigDocument(
  input: unknown,
  current: ConfigDocument,
  options: { merge: boolean; newServer(name: string): VirtualServerConfig },
): unknown {
  if (!isObject(input)) throw new AdminError('invalid', 'the document must be a JSON object ({ "servers": [...], ... })');
  const { format = CONFIG_FORMAT, version = CONFIG_VERSION, ...sections } = input;
  const out: Record<string, unknown> = { format, version };
  for (const key of Object.keys(sections)) {
    if (!(key in SECTIONS)) throw new AdminError('invalid', `${key}: not part of a configuration (expected ${Object.keys(SECTIONS).join(', ')})`, key);
  }
  for (const [section, identity] of Object.entries(SECTIONS) as Array<[Section, string]>) {
    const existing = current[section] as unknown as Array<Record<string, unknown>>;
    const given = sections[section];
    if (given === undefined) {
      out[section] = existing;
      continue;
    }
    if (!Array.isArray(given)) throw new AdminError('invalid', `${section}: must be a list`, section);
    const keyOf = (entry: Record<string, unknown>) => String(entry[identity]).toLowerCase();
    const completed = given.map((entry: unknown, i) => {
      if (!isObject(entry) || typeof entry[identity] !== 'string' || entry[identity] === '') {
        throw new AdminError('invalid', `${section}[${i}].${identity}: required (an entry is found by its ${identity})`, `${section}[${i}].${identity}`);
      }
      const mine = options.merge ? existing.find((e) => keyOf(e) === keyOf(entry)) : undefined;
      const base = mine ?? (section === 'servers' ? options.newServer(String(entry[identity])) : ENTRY_DEFAULTS[section]);
      return merged(base, entry);
    });
    if (options.merge) {
      const named = new Set(completed.map((e) => keyOf(e as Record<string, unknown>)));
      out[section] = [...existing.filter((e) => !named.has(keyOf(e))), ...completed];
    } else {
      out[section] = completed;
    }
  }
  return out;
}

/**
 * The JSON Schema of what `config import` accepts, generated from the zod schemas: every setting
 * may be left out except what finds an entry (a server's name, a domain); lists replace whole,
 * so what is inside a list entry (an address rule, a trusted device) stays required.
 */
export function configImportJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configDocumentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const relax = (node: unknown, keep: readonly string[]): void => {
    if (!isObject(node)) return;
    if (Array.isArray(node.required)) node.required = (node.required as string[]).filter((k) => keep.includes(k));
    if (Array.isArray(node.anyOf)) for (const branch of node.anyOf) relax(branch, keep);
    if (isObject(node.properties)) for (const child of Object.values(node.properties)) relax(child, []);
  };
  relax(schema, []);
  const properties = schema.properties as Record<string, { items?: unknown }>;
  for (const [section, identity] of Object.entries(SECTIONS)) relax(properties[section]?.items, section === 'certificates' ? [identity, 'certPem'] : [identity]);
  return {
    ...schema,
    $id: 'https://relaydesk.invalid/schema/config-v1.json',
    title: 'Relaydesk configuration (relaydesk config import)',
    description: 'A section left out stays as it is; entries are found by name (domain); see the README, "Configuration format".',
  };
}
