// The certificate warnings a running server shows: real certificates made by the certificate
// tools, read back as the console lists them, checked against a server from a real store.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCESS, DEFAULT_DELIVERY, DEFAULT_MESSAGES, type VirtualServerConfig } from '../../server/contract/settings';
import { openStore } from '../../server/store/store';
import { createSelfSignedCertificate } from '../../server/tls/certificate-tools';
import { certificateCovers, certificateWarnings } from '../../server/tls/certificate-warnings';
import { describeCertificate } from '../../server/tls/certificates';

const NOW = new Date('2026-11-29T00:00:00Z');
let dir: string;
let server: VirtualServerConfig;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relaydesk-certwarn-'));
  const store = openStore({ dataDir: dir });
  server = store.createServer({
    name: 'Office', bindAddress: '127.0.0.1', port: 2525, tlsPort: null, fqdn: 'mail.example.com', maxConnections: 50,
    connectionTimeoutSeconds: 60, loggingEnabled: true, state: 'started', access: DEFAULT_ACCESS, messages: DEFAULT_MESSAGES,
    delivery: DEFAULT_DELIVERY, connectionRules: [], relayRules: [], certificate: null,
  });
  store.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function certificate(commonName: string, altNames: string[] = [], days = 365) {
  const { certPem } = await createSelfSignedCertificate({ commonName, altNames, days, now: NOW, key: 'p256' });
  return { name: 'test', assignedTo: [], daysLeft: 0, ...describeCertificate(certPem), certPem, chainPem: '' };
}

describe('certificate warnings', () => {
  it('covers the names the certificate lists (DNS, a wildcard one label deep, IP addresses) and nothing else', async () => {
    const { certPem } = await certificate('vm', ['*.office.example', '127.0.0.1']);
    expect(certificateCovers(certPem, 'vm')).toBe(true);
    expect(certificateCovers(certPem, 'VM')).toBe(true);
    expect(certificateCovers(certPem, 'mail.office.example')).toBe(true);
    expect(certificateCovers(certPem, 'a.mail.office.example')).toBe(false);
    expect(certificateCovers(certPem, 'office.example')).toBe(false);
    expect(certificateCovers(certPem, '127.0.0.1')).toBe(true);
    expect(certificateCovers(certPem, '127.0.0.2')).toBe(false);
    expect(certificateCovers(certPem, 'vm.example')).toBe(false);
  });

  it('a self-signed certificate for the server name on loopback has nothing to say', async () => {
    const cert = await certificate(server.fqdn);
    expect(certificateWarnings({ ...server, bindAddress: '127.0.0.1' }, cert, NOW)).toEqual([]);
  });

  it('names a wrong name, an expiry within 30 days, and a self-signed certificate on the network, each with what to do', async () => {
    const cert = await certificate('other.example', [], 10);
    const warnings = certificateWarnings({ ...server, fqdn: 'mail.office.example', bindAddress: 'all' }, cert, NOW);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/does not cover mail\.office\.example \(it names DNS:other\.example\).*Create or import one for mail\.office\.example/);
    expect(warnings[1]).toMatch(/expires in 9 day\(s\)|expires in 10 day\(s\)/);
    expect(warnings[2]).toMatch(/listens on every address with the self-signed certificate/);
    const expired = await certificate('mail.office.example', [], 1);
    expect(certificateWarnings({ ...server, fqdn: 'mail.office.example', bindAddress: '127.0.0.1' }, expired, new Date(NOW.getTime() + 3 * 86_400_000))).toEqual([
      expect.stringMatching(/has expired; clients refuse it/),
    ]);
  });
});
