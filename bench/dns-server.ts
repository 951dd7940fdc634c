// A loopback DNS server for the benchmark: the client 127.0.0.1 has a PTR that resolves back, so
// domain entries in the connection-control list are checked with a (cached) confirmed name.
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

export const CLIENT_NAME = 'bench-client.office.example';

export async function startBenchDns(): Promise<{ address: string; close(): void; queries(): number }> {
  let queries = 0;
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const query = dnsPacket.decode(msg);
    const question = query.questions?.[0];
    if (!question) return;
    queries++;
    const answers: dnsPacket.Answer[] = [];
    if (question.type === 'PTR' && question.name === '1.0.0.127.in-addr.arpa') answers.push({ type: 'PTR', name: question.name, ttl: 3600, data: CLIENT_NAME });
    if (question.type === 'A' && question.name === CLIENT_NAME) answers.push({ type: 'A', name: question.name, ttl: 3600, data: '127.0.0.1' });
    const response = dnsPacket.encode({ id: query.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (answers.length ? 0 : 3), questions: [question], answers });
    socket.send(response, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { address: `127.0.0.1:${socket.address().port}`, close: () => socket.close(), queries: () => queries };
}

/** 10,000 connection-control entries that never match the loopback client: addresses, subnets and domains. */
export function manyConnectionRules(count: number): Array<{ kind: 'address'; address: string } | { kind: 'subnet'; network: string; prefix: number } | { kind: 'domain'; domain: string }> {
  const rules: ReturnType<typeof manyConnectionRules> = [];
  for (let i = 0; rules.length < count; i++) {
    const a = (i >> 16) & 0xff; const b = (i >> 8) & 0xff; const c = i & 0xff;
    if (i % 100 === 99) rules.push({ kind: 'domain', domain: `blocked${i}.spam.example` });
    else if (i % 10 === 9) rules.push({ kind: 'subnet', network: `10.${b}.${c}.0`, prefix: 24 });
    else rules.push({ kind: 'address', address: `172.${16 + (a % 16)}.${b}.${c}` });
  }
  return rules;
}
