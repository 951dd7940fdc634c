// Where direct delivery goes (RFC 5321 §5.1): the MX hosts in preference order, or the domain
// itself when it has no MX; each host resolved to addresses with the configured DNS servers.
import { promises as dns } from 'node:dns';

export interface MxHost { host: string; addresses: string[] }

const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

export async function resolveDestinations(domain: string, servers: readonly string[], timeoutMs = 5000): Promise<MxHost[]> {
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) resolver.setServers([...servers]);
  let hosts: string[];
  try {
    const mx = await resolver.resolveMx(domain);
    // A null MX (RFC 7505: ".") means the domain accepts no mail.
    if (mx.length === 1 && (mx[0]?.exchange === '' || mx[0]?.exchange === '.')) return [];
    hosts = mx.sort((a, b) => a.priority - b.priority).map((m) => m.exchange);
  } catch (err) {
    if (!NO_RECORD.has((err as { code?: string }).code ?? '')) throw err;
    hosts = [domain];
  }
  const result: MxHost[] = [];
  for (const host of hosts) {
    const addresses: string[] = [];
    for (const lookup of [resolver.resolve4.bind(resolver), resolver.resolve6.bind(resolver)]) {
      try {
        addresses.push(...(await lookup(host)));
      } catch (err) {
        if (!NO_RECORD.has((err as { code?: string }).code ?? '')) throw err;
      }
    }
    if (addresses.length > 0) result.push({ host, addresses });
  }
  return result;
}
