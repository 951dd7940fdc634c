// Forward-confirmed reverse DNS against a real DNS server on loopback (UDP, dns-packet), used
// through the "external DNS servers" setting: confirmation, look-alikes, timeouts, the cache.
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReverseResolver } from '../../server/dns/reverse-resolver';

interface Zone { ptr: Record<string, string>; a: Record<string, string[]>; silent: Set<string> }

const zone: Zone = {
  ptr: { '10.2.0.192.in-addr.arpa': 'pc7.office.example', '11.2.0.192.in-addr.arpa': 'liar.office.example' },
  a: { 'pc7.office.example': ['192.0.2.10'], 'liar.office.example': ['198.51.100.1'] },
  silent: new Set(['12.2.0.192.in-addr.arpa']),
};
let queries = 0;
let server: dgram.Socket;
let port = 0;

beforeAll(async () => {
  server = dgram.createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const query = dnsPacket.decode(msg);
    const question = query.questions?.[0];
    if (!question) return;
    queries++;
    if (zone.silent.has(question.name)) return; // never answers: the client must time out
    const answers: dnsPacket.Answer[] = [];
    if (question.type === 'PTR' && zone.ptr[question.name]) answers.push({ type: 'PTR', name: question.name, ttl: 300, data: zone.ptr[question.name] as string });
    if (question.type === 'A') for (const a of zone.a[question.name] ?? []) answers.push({ type: 'A', name: question.name, ttl: 120, data: a });
    const response = dnsPacket.encode({ id: query.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (answers.length ? 0 : 3), questions: [question], answers });
    server.send(response, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
  port = server.address().port;
});
afterAll(() => server.close());

describe('reverse resolver', () => {
  it('confirms a PTR whose name resolves back to the address, and caches it', async () => {
    const resolver = createReverseResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 500 });
    expect(await resolver.lookup('192.0.2.10')).toEqual({ status: 'confirmed', name: 'pc7.office.example' });
    const before = queries;
    expect(await resolver.lookup('::ffff:192.0.2.10')).toEqual({ status: 'confirmed', name: 'pc7.office.example' });
    expect(queries).toBe(before);
  });

  it('treats a PTR that does not resolve back as no name', async () => {
    const resolver = createReverseResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 500 });
    expect(await resolver.lookup('192.0.2.11')).toEqual({ status: 'none' });
    expect(await resolver.lookup('192.0.2.99')).toEqual({ status: 'none' });
  });

  it('reports a lookup that times out as failed, quickly, without blocking other lookups', async () => {
    const resolver = createReverseResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 300 });
    const slow = resolver.lookup('192.0.2.12');
    expect(await resolver.lookup('192.0.2.10')).toEqual({ status: 'confirmed', name: 'pc7.office.example' });
    expect(await slow).toEqual({ status: 'failed' });
  });
});

describe('reverse names', () => {
  it('builds in-addr.arpa and ip6.arpa names', async () => {
    const { reverseName } = await import('../../server/dns/reverse-resolver');
    expect(reverseName('192.0.2.10')).toBe('10.2.0.192.in-addr.arpa');
    expect(reverseName('2001:db8::1')).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  });
});

describe('domain entries in connection control, end to end', () => {
  it('admits a client whose confirmed reverse name is in the domain and refuses one without a name', async () => {
    const { startTestApp } = await import('../helpers/test-app');
    const { RawSmtp } = await import('../../server/smtp/line-client');
    zone.ptr['5.0.0.127.in-addr.arpa'] = 'scanner.office.example';
    zone.a['scanner.office.example'] = ['127.0.0.5'];
    const t = await startTestApp({
      server: {
        access: { connectionMode: 'only-list', reverseDnsForReceived: true },
        connectionRules: [{ kind: 'domain', domain: 'office.example' }],
        delivery: { dnsServers: [`127.0.0.1:${port}`] },
      },
    });
    try {
      const admitted = await RawSmtp.connect(t.port, { localAddress: '127.0.0.5' });
      expect(admitted.greeting.code).toBe(220);
      admitted.client.close();
      const refused = await RawSmtp.connect(t.port, { localAddress: '127.0.0.6' });
      expect(refused.greeting.raw).toBe('554 5.7.1 Access denied');
    } finally {
      await t.close();
    }
  });
});
