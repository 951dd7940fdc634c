// Matching a client against a connection-control or relay list, IPv4 and IPv6 alike.
// Lists are compiled once into hash sets per prefix length, so a lookup costs one hash probe
// per distinct prefix length, not one comparison per entry (10,000 entries stay cheap).
import ipaddr from 'ipaddr.js';
import { type AddressRule, describeAddressRule } from '../contract/settings';

export interface CompiledAddressList {
  /** prefix length in IPv6 space (IPv4 entries are IPv4-mapped, prefix + 96) → masked key → rule label */
  byPrefix: Map<number, Map<string, string>>;
  /** Prefix lengths present, longest first, so the most specific entry names the match. */
  prefixes: number[];
  /** domain (lower case, no trailing dot) → rule label */
  domains: Map<string, string>;
  size: number;
}

export function compileAddressList(rules: readonly AddressRule[]): CompiledAddressList {
  const byPrefix = new Map<number, Map<string, string>>();
  const domains = new Map<string, string>();
  for (const rule of rules) {
    const label = describeAddressRule(rule);
    if (rule.kind === 'domain') {
      domains.set(rule.domain.replace(/\.$/, ''), label);
      continue;
    }
    const address = rule.kind === 'address' ? rule.address : rule.network;
    const bytes = toMappedBytes(address);
    if (!bytes) continue;
    const isV4 = !address.includes(':');
    const prefix = rule.kind === 'address' ? 128 : rule.prefix + (isV4 ? 96 : 0);
    let keys = byPrefix.get(prefix);
    if (!keys) {
      keys = new Map();
      byPrefix.set(prefix, keys);
    }
    keys.set(maskedKey(bytes, prefix), label);
  }
  const prefixes = [...byPrefix.keys()].sort((a, b) => b - a);
  return { byPrefix, prefixes, domains, size: rules.length };
}

/** Does the list hold domain entries (which need a reverse lookup per connection)? */
export function needsReverseName(list: CompiledAddressList): boolean {
  return list.domains.size > 0;
}

/** The label of the first (most specific) address entry matching the client, or null. */
export function matchAddress(list: CompiledAddressList, clientAddress: string): string | null {
  if (list.prefixes.length === 0) return null;
  const bytes = toMappedBytes(clientAddress);
  if (!bytes) return null;
  for (const prefix of list.prefixes) {
    const label = list.byPrefix.get(prefix)?.get(maskedKey(bytes, prefix));
    if (label !== undefined) return label;
  }
  return null;
}

/** The label of the domain entry covering the (forward-confirmed) reverse name, or null. */
export function matchDomain(list: CompiledAddressList, reverseName: string): string | null {
  if (list.domains.size === 0) return null;
  let name = reverseName.toLowerCase().replace(/\.$/, '');
  for (;;) {
    const label = list.domains.get(name);
    if (label !== undefined) return label;
    const dot = name.indexOf('.');
    if (dot < 0) return null;
    name = name.slice(dot + 1);
  }
}

/**
 * Parsed client addresses: a session matches the same address at connect, at MAIL and at every
 * RCPT (parsing costs about 10 µs). Bounded, and only a cache of a pure function.
 */
const mappedBytesCache = new Map<string, readonly number[] | null>();
const MAPPED_BYTES_CACHE_SIZE = 4096;

/** 16 bytes, IPv4 as IPv4-mapped IPv6; null for text that is not an address. */
export function toMappedBytes(address: string): readonly number[] | null {
  const cached = mappedBytesCache.get(address);
  if (cached !== undefined) return cached;
  if (mappedBytesCache.size >= MAPPED_BYTES_CACHE_SIZE) mappedBytesCache.clear();
  const bytes = parseMappedBytes(address);
  mappedBytesCache.set(address, bytes);
  return bytes;
}

function parseMappedBytes(address: string): readonly number[] | null {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const withoutZone = bare.replace(/%.*$/, '');
  if (!ipaddr.isValid(withoutZone)) return null;
  const parsed = ipaddr.parse(withoutZone);
  const v6 = parsed.kind() === 'ipv4' ? (parsed as ipaddr.IPv4).toIPv4MappedAddress() : (parsed as ipaddr.IPv6);
  return v6.toByteArray();
}

function maskedKey(bytes: readonly number[], prefix: number): string {
  const fullBytes = prefix >> 3;
  const restBits = prefix & 7;
  let key = '';
  for (let i = 0; i < fullBytes; i++) key += String.fromCharCode(bytes[i] ?? 0);
  if (restBits > 0) key += String.fromCharCode((bytes[fullBytes] ?? 0) & (0xff << (8 - restBits)) & 0xff);
  return `${prefix}:${key}`;
}
