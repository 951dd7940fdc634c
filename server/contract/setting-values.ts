// The values settings are made of: host and domain names, addresses, folders, ports and the
// entries of connection-control and relay lists (address, subnet or domain), as zod schemas, with
// the text forms the UI and the CLI read and show. Pure: no I/O here.
import { z } from 'zod';
import ipaddr from 'ipaddr.js';

const HOSTNAME_RE = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;
const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/i;
const EMAIL_RE = /^[^\s@<>()"]{1,64}@[^\s@<>()"]{1,253}$/;

export const hostnameSchema = z.string().trim().toLowerCase().regex(HOSTNAME_RE, 'must be a host name such as mail.example.com');
export const domainSchema = z.string().trim().toLowerCase().regex(DOMAIN_RE, 'must be a domain name such as example.com');
export const emailSchema = z.string().trim().regex(EMAIL_RE, 'must be an address such as name@example.com');

/** An IPv4 or IPv6 address in its canonical text form (IPv4-mapped IPv6 becomes IPv4). */
export const ipAddressSchema = z.string().trim().transform((value, ctx) => {
  if (!ipaddr.isValid(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be an IPv4 or IPv6 address' });
    return z.NEVER;
  }
  return canonicalAddress(value);
});

export function canonicalAddress(value: string): string {
  const parsed = ipaddr.process(value);
  return parsed.toString();
}

/** "all" (every interface, IPv4 and IPv6) or one address of this machine. */
export const bindAddressSchema = z.string().trim().transform((value, ctx): string => {
  if (value.toLowerCase() === 'all') return 'all';
  if (!ipaddr.isValid(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be "all" (All unassigned) or an IPv4 or IPv6 address of this machine' });
    return z.NEVER;
  }
  return canonicalAddress(value);
});

/**
 * A folder given as a full path (POSIX "/srv/mail/drop", Windows "C:\\Mail\\Drop" or a UNC share).
 * A relative path would depend on the directory the server happened to start in.
 */
const ABSOLUTE_PATH_RE = /^(\/|[A-Za-z]:[\\/]|\\\\[^\\]+\\)/;
export const folderSchema = z.string().trim().min(1).refine((value) => ABSOLUTE_PATH_RE.test(value), 'must be a full path, such as /srv/relaydesk/drop or C:\\Relaydesk\\Drop');

export const portSchema = z.number().int().min(0, 'must be 0 to 65535').max(65535, 'must be 0 to 65535');

/**
 * One entry of a connection-control or relay list. Subnets arrive as CIDR or with a mask and
 * are stored by prefix length; domains match the forward-confirmed reverse name and sub-domains.
 */
export const addressRuleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('address'), address: ipAddressSchema }),
  z.object({
    kind: z.literal('subnet'),
    network: ipAddressSchema,
    prefix: z.number().int().min(0).max(128).optional(),
    mask: z.string().trim().optional(),
  }).transform((entry, ctx) => {
    const prefix = entry.prefix ?? (entry.mask !== undefined ? maskToPrefix(entry.mask) : undefined);
    if (prefix === undefined || prefix === null) {
      ctx.addIssue({ code: 'custom', message: 'needs a prefix length or a subnet mask such as 255.255.255.0', path: ['mask'] });
      return z.NEVER;
    }
    const isV4 = ipaddr.parse(entry.network).kind() === 'ipv4';
    if (prefix > (isV4 ? 32 : 128)) {
      ctx.addIssue({ code: 'custom', message: `prefix must be at most ${isV4 ? 32 : 128}`, path: ['prefix'] });
      return z.NEVER;
    }
    const network = ipaddr.parseCIDR(`${entry.network}/${prefix}`);
    const base = (isV4 ? ipaddr.IPv4.networkAddressFromCIDR(`${entry.network}/${prefix}`) : networkOfV6(network[0] as ipaddr.IPv6, prefix)).toString();
    return { kind: 'subnet' as const, network: base, prefix };
  }),
  z.object({ kind: z.literal('domain'), domain: domainSchema }),
]);
export type AddressRule = z.output<typeof addressRuleSchema>;
export type AddressRuleInput = z.input<typeof addressRuleSchema>;

function networkOfV6(address: ipaddr.IPv6, prefix: number): ipaddr.IPv6 {
  const bytes = address.toByteArray();
  for (let bit = prefix; bit < 128; bit++) {
    const index = bit >> 3;
    bytes[index] = (bytes[index] ?? 0) & ~(0x80 >> (bit & 7));
  }
  return ipaddr.fromByteArray(bytes) as ipaddr.IPv6;
}

/** 255.255.255.0 → 24; null when the text is not a contiguous IPv4 mask. */
export function maskToPrefix(mask: string): number | null {
  if (!ipaddr.IPv4.isValidFourPartDecimal(mask)) return null;
  const prefix = ipaddr.IPv4.parse(mask).prefixLengthFromSubnetMask();
  return prefix;
}

/** Parses "10.0.0.0/8", "10.0.0.0/255.0.0.0", "2001:db8::/32", "192.0.2.7" or "example.com". */
export function parseAddressRuleText(text: string): AddressRuleInput {
  const value = text.trim();
  const slash = value.indexOf('/');
  if (slash > 0) {
    const network = value.slice(0, slash);
    const suffix = value.slice(slash + 1);
    return /^\d{1,3}$/.test(suffix) ? { kind: 'subnet', network, prefix: Number(suffix) } : { kind: 'subnet', network, mask: suffix };
  }
  if (ipaddr.isValid(value)) return { kind: 'address', address: value };
  // "*.example.com" says what a domain entry means: the domain and every name under it.
  return { kind: 'domain', domain: value.replace(/^\*\./, '') };
}

export function describeAddressRule(rule: AddressRule): string {
  switch (rule.kind) {
    case 'address': return rule.address;
    case 'subnet': return `${rule.network}/${rule.prefix}`;
    case 'domain': return `domain ${rule.domain}`;
  }
}
