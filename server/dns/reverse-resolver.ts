// Forward-confirmed reverse DNS for connection control and Received headers. Uses node:dns's
// Resolver (c-ares, asynchronous: a slow lookup never stalls other sessions) with the configured
// external DNS servers, a short timeout, a TTL cache, and one lookup in flight per address.
import { promises as dnsPromises } from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { ReverseName } from '../policy/session-policy';

export interface ReverseResolverOptions {
  /** "192.0.2.53" or "127.0.0.1:5353"; empty = the system's servers. */
  servers?: readonly string[];
  timeoutMs?: number;
  now?: () => number;
}

const MAX_CACHE_SECONDS = 3600;
const NEGATIVE_CACHE_SECONDS = 300;
const FAILURE_CACHE_SECONDS = 10;
const CACHE_LIMIT = 50_000;

export interface ReverseResolver {
  lookup(address: string): Promise<ReverseName>;
  /** Resolve a host name to its addresses (the "DNS lookup" button of a single-computer entry). */
  addressesOf(hostname: string): Promise<string[]>;
}

const NO_NAME_CODES = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);

export function createReverseResolver(options: ReverseResolverOptions = {}): ReverseResolver {
  const timeout = options.timeoutMs ?? 1500;
  const resolver = new dnsPromises.Resolver({ timeout, tries: 1 });
  if (options.servers && options.servers.length > 0) resolver.setServers([...options.servers]);
  const now = options.now ?? Date.now;
  const cache = new Map<string, { value: ReverseName; expires: number }>();
  const inFlight = new Map<string, Promise<ReverseName>>();

  const remember = (address: string, value: ReverseName, seconds: number): ReverseName => {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(address, { value, expires: now() + seconds * 1000 });
    return value;
  };

  const resolveForward = async (name: string, v6: boolean): Promise<Array<{ address: string; ttl: number }>> => {
    try {
      return v6 ? await resolver.resolve6(name, { ttl: true }) : await resolver.resolve4(name, { ttl: true });
    } catch (err) {
      if (NO_NAME_CODES.has((err as { code?: string }).code ?? '')) return [];
      throw err;
    }
  };

  const uncached = async (address: string): Promise<ReverseName> => {
    const v6 = address.includes(':');
    let names: string[];
    try {
      // resolvePtr, not reverse(): reverse() reports every failure, timeouts included, as
      // ENOTFOUND, which would turn "DNS did not answer" into "has no name" (fail-open).
      names = await resolver.resolvePtr(reverseName(address));
    } catch (err) {
      if (NO_NAME_CODES.has((err as { code?: string }).code ?? '')) return remember(address, { status: 'none' }, NEGATIVE_CACHE_SECONDS);
      return remember(address, { status: 'failed' }, FAILURE_CACHE_SECONDS);
    }
    try {
      for (const raw of names.slice(0, 5)) {
        const name = raw.toLowerCase().replace(/\.$/, '');
        if (!/^[a-z0-9_.-]{1,253}$/.test(name)) continue; // PTR data is attacker-controlled
        const forward = await resolveForward(name, v6);
        const match = forward.find((f) => normalize(f.address) === normalize(address));
        if (match) return remember(address, { status: 'confirmed', name }, Math.min(Math.max(match.ttl, 1), MAX_CACHE_SECONDS));
      }
      return remember(address, { status: 'none' }, NEGATIVE_CACHE_SECONDS);
    } catch {
      return remember(address, { status: 'failed' }, FAILURE_CACHE_SECONDS);
    }
  };

  return {
    lookup(rawAddress) {
      const address = rawAddress.replace(/^::ffff:/i, '');
      const hit = cache.get(address);
      if (hit && hit.expires > now()) return Promise.resolve(hit.value);
      let pending = inFlight.get(address);
      if (!pending) {
        pending = uncached(address).finally(() => inFlight.delete(address));
        inFlight.set(address, pending);
      }
      return pending;
    },
    async addressesOf(hostname) {
      const [v4, v6] = await Promise.all([resolveForward(hostname, false), resolveForward(hostname, true)]);
      return [...v4, ...v6].map((r) => r.address);
    },
  };
}

/** 192.0.2.10 → 10.2.0.192.in-addr.arpa; IPv6 → nibbles under ip6.arpa. */
export function reverseName(address: string): string {
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return `${parsed.toByteArray().reverse().join('.')}.in-addr.arpa`;
  const nibbles = parsed.toByteArray().flatMap((byte) => [byte >> 4, byte & 15]).map((n) => n.toString(16));
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

function normalize(address: string): string {
  return address.toLowerCase().replace(/^::ffff:/, '');
}
