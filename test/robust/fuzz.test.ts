// Property-based fuzzing (fast-check), bounded runs: the SMTP command parser at its boundaries
// over a real socket, the policy functions (valid decisions, never an open relay by accident),
// and config import (valid documents apply; anything else is refused and changes nothing).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminError } from '../../server/contract/errors';
import { type AccessSettings, addressRuleSchema, DEFAULT_ACCESS, DEFAULT_LOCKOUT, DEFAULT_MESSAGES } from '../../server/contract/settings';
import { compilePolicy, evaluateAuthCommand, evaluateConnection, evaluateMailFrom, evaluateRecipient } from '../../server/policy/session-policy';
import { RawSmtp } from '../../server/smtp/line-client';
import { inspectCertificate } from '../../server/tls/certificates';
import { startTestApp, type TestApp } from '../helpers/test-app';

const COMMANDS = ['EHLO', 'HELO', 'MAIL FROM:', 'RCPT TO:', 'AUTH', 'AUTH PLAIN', 'AUTH LOGIN', 'DATA', 'RSET', 'NOOP', 'VRFY', 'HELP', 'BDAT', 'XCLIENT', ''];

describe('fuzz: SMTP command lines', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp({ server: { access: { ...DEFAULT_ACCESS, requireSecureChannel: false, maxConnectionsPerAddress: null } } }); });
  afterAll(() => t.close());

  it('answers every line with a reply code and stays up', async () => {
    const line = fc.oneof(
      fc.string({ maxLength: 700 }),
      fc.tuple(fc.constantFrom(...COMMANDS), fc.string({ maxLength: 520 })).map(([c, a]) => `${c}${a}`),
      fc.tuple(fc.constantFrom(...COMMANDS), fc.integer({ min: 500, max: 520 })).map(([c, n]) => `${c} ${'a'.repeat(n)}`),
    ).map((text) => text.replace(/[\r\n]/g, ' '));
    await fc.assert(fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 12 }), async (lines) => {
      const { client, greeting } = await RawSmtp.connect(t.port);
      expect(greeting.code).toBe(220);
      try {
        for (const text of lines) {
          const reply = await client.command(text);
          expect(reply.raw).toMatch(/^\d{3}( |$)/m);
          if (reply.code === 421 || reply.raw === '500 5.5.2 Line too long' || reply.code === 354) break;
        }
      } finally {
        client.close();
      }
    }), { numRuns: 60 });
    const after = await RawSmtp.connect(t.port);
    expect((await after.client.command('EHLO still.alive')).code).toBe(250);
    after.client.close();
  }, 60_000);
});

describe('fuzz: policy', () => {
  const octet = fc.integer({ min: 0, max: 255 });
  const address = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
  const access: fc.Arbitrary<AccessSettings> = fc.record({
    anonymous: fc.boolean(), basicAuth: fc.boolean(), basicRequiresTls: fc.boolean(), cramMd5: fc.boolean(), defaultDomain: fc.constant(null),
    requireSecureChannel: fc.boolean(), requireStrongEncryption: fc.boolean(), allowLegacyTls: fc.boolean(),
    connectionMode: fc.constantFrom('only-list' as const, 'all-except' as const), relayMode: fc.constantFrom('only-list' as const, 'all-except' as const),
    relayForAuthenticated: fc.boolean(), restrictSenders: fc.boolean(), reverseDnsForReceived: fc.boolean(),
    maxConnectionsPerAddress: fc.option(fc.integer({ min: 1, max: 50 }), { nil: null }), sniCertificates: fc.constant([]),
    lockout: fc.constant(DEFAULT_LOCKOUT), trustedDevices: fc.constant([]),
  });
  const rules = fc.array(fc.tuple(address, fc.integer({ min: 0, max: 32 })).map(([network, prefix]) => addressRuleSchema.parse({ kind: 'subnet', network, prefix })), { maxLength: 5 });

  it('always returns a well-formed decision, and relays only when the settings grant it', () => {
    fc.assert(fc.property(access, rules, rules, address, fc.boolean(), fc.boolean(), fc.emailAddress(), fc.emailAddress(), (a, connectionRules, relayRules, client, tls, signedIn, from, to) => {
      const policy = compilePolicy({ access: a, messages: DEFAULT_MESSAGES, connectionRules, relayRules }, ['example.com']);
      const facts = { address: client, reverseName: { status: 'none' as const }, tls: tls ? { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', bits: 256 } : null, user: signedIn ? { name: 'u', senders: [] } : null, messagesAccepted: 0 };
      for (const decision of [evaluateConnection(policy, facts), evaluateAuthCommand(policy, facts, 'PLAIN'), evaluateMailFrom(policy, facts, from, null), evaluateRecipient(policy, facts, to, 0)]) {
        expect(decision.code).toBeGreaterThanOrEqual(200);
        expect(decision.code).toBeLessThan(600);
        expect(decision.verdict === 'allow').toBe(decision.code < 400);
        if (decision.code >= 400) expect(decision.enhanced).toMatch(/^[45]\.\d{1,3}\.\d{1,3}$/);
        expect(decision.rule.length).toBeGreaterThan(0);
      }
      const external = to.toLowerCase().endsWith('@example.com') ? null : evaluateRecipient(policy, facts, to, 0);
      if (external?.verdict === 'allow') {
        // Relaying happened: it must be granted by a signed-in user, a listed address, or all-except.
        // The oracle is computed independently of the policy: does the client's address fall in an entry?
        const listed = relayRules.some((rule) => rule.kind === 'subnet' && inSubnet(client, rule.network, rule.prefix));
        const granted = (signedIn && a.relayForAuthenticated) || (a.relayMode === 'only-list' ? listed : !listed);
        expect(granted, `relayed for ${client} with ${JSON.stringify({ mode: a.relayMode, relayRules, signedIn })}`).toBe(true);
        if (!signedIn && !a.anonymous) throw new Error('anonymous relaying with anonymous access off');
      }
    }), { numRuns: 2000 });
  });
});

describe('fuzz: config import', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp({ users: [{ name: 'alice', password: 'correct horse battery' }], domains: ['example.com'] }); });
  afterAll(() => t.close());

  it('applies valid documents and refuses anything else without changing the store', () => {
    const base = t.app.store.exportConfig({ withSecrets: true });
    const paths = ['servers.0.port', 'servers.0.bindAddress', 'servers.0.access', 'servers.0.access.relayMode', 'servers.0.messages.maxMessageBytes', 'servers.0.connectionRules',
      'servers.0.name', 'users.0.name', 'users.0.senders', 'acceptedDomains.0', 'acceptedDomains.0.domain', 'certificates.0.certPem', 'version', 'servers', 'servers.0.certificate'];
    fc.assert(fc.property(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 2 }), (where, value) => {
      const doc = structuredClone(base) as unknown as Record<string, unknown>;
      const keys = where.split('.');
      let node = doc as Record<string, unknown>;
      for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
      node[keys[keys.length - 1] as string] = value;
      const before = JSON.stringify(t.app.store.exportConfig({ withSecrets: true }));
      try {
        t.app.store.importConfig(doc, inspectCertificate);
      } catch (err) {
        expect(err).toBeInstanceOf(AdminError);
        expect((err as AdminError).message.length).toBeGreaterThan(0);
        expect(JSON.stringify(t.app.store.exportConfig({ withSecrets: true }))).toBe(before);
        return;
      }
      // Accepted: what is stored now is itself a valid document, and the original can be restored.
      t.app.store.importConfig(t.app.store.exportConfig({ withSecrets: true }), inspectCertificate);
      t.app.store.importConfig(base, inspectCertificate);
    }), { numRuns: 300 });
  });
});

/** Plain arithmetic on IPv4 (no ipaddr.js, no policy code): is the address inside network/prefix? */
function inSubnet(address: string, network: string, prefix: number): boolean {
  const value = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - prefix);
  return Math.floor(value(address) / size) === Math.floor(value(network) / size);
}
