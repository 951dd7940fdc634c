// Routes (#16): mail picks its route by user, recipient domain, trusted device or sender; a route
// fails over on the codes it names (SMTP AUTH switched off, 5.7.139 → Graph); "send as the
// route's mailbox" rewrites From and keeps the sender as Reply-To. Against a real SMTP smart host
// that refuses the sign-in as Microsoft 365 does, and the loopback fakes of Microsoft's services.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_NAME, graphScope, type SmartHost } from '../../server/contract/settings';
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';
import { CLIENT_ID, type GraphFake, MAILBOX, SECRET, startGraphFake, startTokenFake, TENANT, type TokenFake } from '../helpers/microsoft-fakes';
import { cli, preparedDataDir } from '../helpers/serve-process';
import { eventually, startTestApp, type TestApp } from '../helpers/test-app';

const PASSWORD = 'correct horse battery';

let graph: GraphFake;
let tokens: TokenFake;
let legacy: SMTPServer;
let legacyPort = 0;
let legacyAuthAttempts = 0;
const open: TestApp[] = [];

beforeAll(async () => {
  graph = await startGraphFake(() => tokens.issued);
  tokens = await startTokenFake({ tenant: TENANT, clientId: CLIENT_ID, clientSecret: SECRET, scope: graphScope(graph.url, 'app') });
  // A smart host that answers AUTH as Microsoft 365 does once SMTP AUTH is switched off for the tenant.
  legacy = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'], disabledCommands: [], logger: false,
    onAuth(_auth, _session, callback) {
      legacyAuthAttempts++;
      callback(Object.assign(new Error('5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.'), { responseCode: 535 }));
    },
  });
  await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
  legacyPort = (legacy.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => legacy.close(() => resolve()));
  await graph.close();
  await tokens.close();
});
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
  graph.sent.splice(0);
});

function graphHost(): SmartHost {
  return {
    transport: 'graph', graphUrl: graph.url, host: '127.0.0.1', port: 443, security: 'tls', verifyCertificate: true, authentication: 'oauth2', user: MAILBOX, password: null,
    trustedCertificate: null, clientCertificate: null, maxMessagesPerMinute: null, maxRecipientsPerDay: null,
    oauth2: { provider: 'microsoft365', tenant: TENANT, clientId: CLIENT_ID, clientSecret: SECRET, certificate: null, flow: 'app', authority: tokens.url, authorizationEndpoint: null, tokenEndpoint: null, deviceEndpoint: null, revocationEndpoint: null, scope: graphScope(graph.url, 'app') },
  };
}

async function routedApp(): Promise<TestApp> {
  const t = await startTestApp({
    users: [{ name: 'alice', password: PASSWORD }, { name: 'bob', password: PASSWORD }],
    domains: ['example.com'],
    server: {
      access: { trustedDevices: [{ name: 'Printer', match: { kind: 'address', address: '127.0.0.2' }, senders: [], recipientDomains: [], perHour: null, allowWithoutTls: false }] },
      delivery: {
        holdRemote: false,
        retryMinutes: { first: 5, second: 5, third: 5, subsequent: 5 },
        smartHost: { host: '127.0.0.1', port: legacyPort, security: 'starttls', verifyCertificate: false, authentication: 'basic', user: 'relay@contoso.com', password: 'old-password', trustedCertificate: null, oauth2: null },
        routes: [
          { name: 'Printer', match: { devices: ['Printer'] }, smartHost: graphHost() },
          { name: 'Partners', match: { users: ['alice'], recipientDomains: ['partner.test'] }, smartHost: graphHost(), sendAsMailbox: true },
          { name: 'Legacy', match: { senders: ['@example.com'] }, smartHost: null, failover: { route: 'Partners', on: ['5.7.139'] } },
        ],
      },
    },
  });
  // "Legacy" sends through the old smart host (set after creation: the route needs its transport).
  const config = t.app.store.getServer(DEFAULT_SERVER_NAME);
  t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { routes: config.delivery.routes.map((r) => (r.name === 'Legacy' ? { ...r, smartHost: config.delivery.smartHost } : r)) } });
  open.push(t);
  return t;
}

async function submit(port: number, options: { user?: string; from: string; to: string; local?: string }): Promise<string> {
  const { client } = await RawSmtp.connect(port, options.local ? { localAddress: options.local } : {});
  await client.command('EHLO office.test');
  await client.startTls();
  await client.command('EHLO office.test');
  if (options.user) expect((await client.command(`AUTH PLAIN ${plainAuth(options.user, PASSWORD)}`)).code).toBe(235);
  expect((await client.command(`MAIL FROM:<${options.from}>`)).code).toBe(250);
  expect((await client.command(`RCPT TO:<${options.to}>`)).code).toBe(250);
  await client.command('DATA');
  const reply = await client.command(`From: "Sender" <${options.from}>\r\nTo: <${options.to}>\r\nSubject: routed\r\n\r\nBody.\r\n.`);
  client.close();
  expect(reply.code).toBe(250);
  return reply.raw.split(' ').pop() as string;
}

describe('routes', () => {
  it('picks the route by device, user and recipient domain, rewrites From for send-as, and fails over on 5.7.139', async () => {
    const t = await routedApp();
    const sent = (n: number) => eventually(() => graph.sent.length >= n, 10_000);

    // A trusted device: its own route, From untouched.
    const printed = await submit(t.port, { from: 'printer@example.com', to: 'someone@elsewhere.test', local: '127.0.0.2' });
    await sent(1);
    expect(graph.sent[0]?.mime.toString()).toContain('From: "Sender" <printer@example.com>');
    expect(t.app.store.getMessage(printed)?.recipients[0]?.state).toBe('delivered');

    // alice to partner.test: the Partners route, sent as the mailbox with alice as Reply-To.
    await submit(t.port, { user: 'alice', from: 'alice@example.com', to: 'carol@partner.test' });
    await sent(2);
    const mime = graph.sent[1]?.mime.toString() ?? '';
    expect(mime).toMatch(/\r\nFrom: <relay@contoso\.com>\r\nReply-To: "Sender" <alice@example\.com>\r\n\r\nBody\.\r\n$/);
    expect(mime).not.toContain('From: "Sender"');

    // bob from example.com: the Legacy route, whose smart host has SMTP AUTH switched off (5.7.139): failover to Partners at once.
    const attemptsBefore = legacyAuthAttempts;
    const failedOver = await submit(t.port, { user: 'bob', from: 'bob@example.com', to: 'dave@elsewhere.test' });
    await sent(3);
    expect(legacyAuthAttempts).toBeGreaterThan(attemptsBefore);
    const recipient = await eventually(() => t.app.store.getMessage(failedOver)?.recipients.find((r) => r.state === 'delivered'));
    expect(recipient.attempts).toBe(1); // one attempt: the failover went at once, not at the next retry
    expect(recipient.lastReply).toContain('Accepted by Microsoft Graph sendMail');
    expect(graph.sent[2]?.mime.toString()).toContain('From: <relay@contoso.com>');
  });

  it('without a failover, the refused sign-in waits in the queue and is explained in plain words', async () => {
    const t = await routedApp();
    const config = t.app.store.getServer(DEFAULT_SERVER_NAME);
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { routes: config.delivery.routes.map((r) => (r.name === 'Legacy' ? { ...r, failover: null } : r)) } });
    const id = await submit(t.port, { user: 'bob', from: 'bob@example.com', to: 'dave@elsewhere.test' });
    const waiting = await eventually(() => t.app.store.getMessage(id)?.recipients.find((r) => r.attempts === 1));
    expect(waiting.state).toBe('queued');
    expect(waiting.lastReply).toMatch(/^454 4\.7\.0 The smart host refused the sign-in: 535 5\.7\.139/);
    const warning = (await t.app.activeWarnings()).find((w) => w.id === 'upstream:m365-smtp-auth-disabled');
    expect(warning?.message).toContain('1 recipient(s) waiting');
    expect(warning?.action).toContain('relaydesk smarthost graph');
  });
});

describe('Test route', () => {
  it('reports each step: a refused sign-in with the fix, and a Graph route that sends', async () => {
    const t = await routedApp();
    const handlers = (await import('../../server/admin')).createAdminHandlers(t.app);
    const legacyReport = await handlers['route.test']({ server: DEFAULT_SERVER_NAME, route: 'Legacy', to: 'admin@elsewhere.test' });
    expect(legacyReport.passed).toBe(false);
    expect(legacyReport.steps.map((s) => s.ok)).toEqual([false]);
    expect(legacyReport.steps[0]?.detail).toMatch(/^535 5\.7\.139 Authentication unsuccessful/);
    expect(legacyReport.steps[0]?.explanation?.id).toBe('m365-smtp-auth-disabled');
    const before = graph.sent.length;
    const graphReport = await handlers['route.test']({ server: DEFAULT_SERVER_NAME, route: 'Partners', to: 'admin@partner.test' });
    expect(graphReport.steps.map((s) => [s.title, s.ok])).toEqual([
      ['Sign in to Microsoft 365 as relay@contoso.com', true], ['Send a test message to admin@partner.test through Microsoft Graph', true],
    ]);
    expect(graph.sent.length).toBe(before + 1);
    expect(graph.sent.at(-1)?.mime.toString()).toContain('Subject: Relaydesk test through Partners');
  });
});

describe('relaydesk route', () => {
  it('adds, matches, orders, fails over and removes routes; the smarthost commands set a route\'s transport with --route', async () => {
    const dir = await preparedDataDir();
    const data = ['--data', dir];
    const server = DEFAULT_SERVER_NAME;
    expect((await cli(['route', 'add', server, 'Scanners', '--device', 'Reception printer', '--recipient-domain', 'contoso.com', ...data])).code).toBe(0);
    expect((await cli(['route', 'add', server, 'Graph', '--sender', '@example.com', '--position', '1', ...data])).code).toBe(0);
    const graphSet = await cli(['smarthost', 'graph', server, '--route', 'Graph', '--tenant', TENANT, '--client-id', CLIENT_ID, '--client-secret-stdin', '--mailbox', MAILBOX, ...data], `${SECRET}\n`);
    expect(graphSet.code, graphSet.stderr).toBe(0);
    expect((await cli(['route', 'failover', server, 'Scanners', '--to', 'Graph', '--on', '5.7.139,4.7.500', ...data])).code).toBe(0);
    expect((await cli(['route', 'send-as', server, 'Graph', 'on', ...data])).code).toBe(0);
    expect((await cli(['route', 'failover', server, 'Scanners', '--to', 'Nowhere', '--on', '5.7.139', ...data])).stderr).toContain('no route "Nowhere" to fail over to');
    const listed = (await cli(['route', 'list', server, ...data])).stdout;
    expect(listed).toBe([
      '1. Graph: senders @example.com → Microsoft Graph as relay@contoso.com',
      '     sends as the route\'s mailbox (From rewritten, the original From as Reply-To)',
      '2. Scanners: devices Reception printer; recipient domains contoso.com → directly by MX',
      '     failover to Graph on 5.7.139, 4.7.500',
      '3. default: everything else → directly by MX',
      '',
    ].join('\n'));
    expect((await cli(['server', 'show', server, ...data])).stdout).toMatch(/Routes \(relaydesk route list for details\) +1\. Graph → Graph as relay@contoso\.com; 2\. Scanners → MX +\[delivery\.routes\]/);
    // The route's client secret is stored sealed, never exported without --with-secrets, and kept when other settings change.
    expect((await cli(['config', 'export', ...data])).stdout).not.toContain(SECRET);
    expect((await cli(['route', 'move', server, 'Graph', '--position', '2', ...data])).code).toBe(0);
    expect((await cli(['config', 'export', '--with-secrets', ...data])).stdout).toContain(SECRET);
    expect((await cli(['route', 'list', server, ...data])).stdout).toMatch(/^1\. Scanners[\s\S]*\n2\. Graph/);
    expect((await cli(['route', 'remove', server, 'Scanners', ...data])).code).toBe(0);
    expect((await cli(['smarthost', 'status', server, '--route', 'Graph', ...data])).stdout).toContain('Provider:      microsoft365 (app-only)');
    expect((await cli(['smarthost', 'status', server, '--route', 'Nope', ...data])).stderr).toContain('has no route named "Nope"');
    // A route that signs in with OAuth2 and has not yet: the warning names the route and the command that signs it in.
    expect((await cli(['smarthost', 'graph', server, '--route', 'Graph', '--tenant', TENANT, '--client-id', CLIENT_ID, '--delegated', 'device', '--mailbox', MAILBOX, ...data])).code).toBe(0);
    const { App } = await import('../../server/app');
    const app = new App({ dataDir: dir, offline: true });
    try {
      const warning = app.signInWarnings().find((w) => w.id === `sign-in:${server}::Graph`);
      expect(warning?.message).toBe(`${server} (route Graph): the smart host's OAuth2 sign-in has not been done; mail for other domains waits in the queue.`);
      expect(warning?.action).toBe(`Sign in under Properties → Delivery → Routes → Graph (or relaydesk smarthost signin "${server}" --route "Graph").`);
      expect(warning?.server).toBe(server);
    } finally {
      app.store.close();
    }
  });
});

describe('Microsoft 365 connector relay', () => {
  it('looks up the tenant\'s MX for the preset and presents the client certificate to the connector', async () => {
    const dgram = await import('node:dgram');
    const dnsPacket = (await import('dns-packet')).default;
    const dns = dgram.createSocket('udp4');
    dns.on('message', (msg, rinfo) => {
      const query = dnsPacket.decode(msg);
      const q = query.questions?.[0];
      if (!q) return;
      const answers = q.type === 'MX' && q.name === 'contoso.com' ? [{ type: 'MX' as const, name: q.name, ttl: 60, data: { preference: 0, exchange: 'contoso-com.mail.protection.outlook.com' } }]
        : q.type === 'MX' && q.name === 'other.example' ? [{ type: 'MX' as const, name: q.name, ttl: 60, data: { preference: 10, exchange: 'mx.other.example' } }]
          : q.type === 'A' && q.name.endsWith('.example') ? [{ type: 'A' as const, name: q.name, ttl: 60, data: '192.0.2.25' }]
            : q.type === 'A' && q.name.endsWith('outlook.com') ? [{ type: 'A' as const, name: q.name, ttl: 60, data: '192.0.2.26' }] : [];
      dns.send(dnsPacket.encode({ id: query.id, type: 'response', flags: dnsPacket.RECURSION_AVAILABLE, questions: [q], answers }), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => dns.bind(0, '127.0.0.1', () => resolve()));
    const dir = await preparedDataDir();
    const data = ['--data', dir];
    try {
      expect((await cli(['server', 'set', DEFAULT_SERVER_NAME, `delivery.dnsServers=["127.0.0.1:${dns.address().port}"]`, ...data])).code).toBe(0);
      expect((await cli(['cert', 'create', 'connector', '--cn', 'relay.contoso.com', ...data])).code).toBe(0);
      const set = await cli(['smarthost', 'set', DEFAULT_SERVER_NAME, '--preset', 'microsoft365-connector', '--domain', 'contoso.com', '--client-certificate', 'connector', ...data]);
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toContain('through contoso-com.mail.protection.outlook.com');
      expect(set.stdout).toContain('Mail flow → Connectors → Add a connector');
      const host = (JSON.parse((await cli(['config', 'export', ...data])).stdout) as { servers: Array<{ delivery: { smartHost: SmartHost } }> }).servers[0]?.delivery.smartHost;
      expect(host).toMatchObject({ host: 'contoso-com.mail.protection.outlook.com', port: 25, security: 'starttls', authentication: 'none', clientCertificate: 'connector' });
      const other = await cli(['smarthost', 'set', DEFAULT_SERVER_NAME, '--preset', 'microsoft365-connector', '--domain', 'other.example', ...data]);
      expect(other.code).toBe(1);
      expect(other.stderr).toContain("other.example's MX is not Microsoft 365 (found mx.other.example)");
    } finally {
      dns.close();
    }
  });

  it('delivers through a connector that identifies the office by its certificate', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'] });
    open.push(t);
    const certificate = await t.app.certificates.create('connector', { commonName: 'relay.contoso.com', altNames: [] });
    const presented: string[] = [];
    const connector = new SMTPServer({
      authOptional: true, logger: false, disabledCommands: ['AUTH'],
      // Exchange Online's connector asks for the sending server's certificate during STARTTLS.
      requestCert: true, rejectUnauthorized: false,
      onSecure(socket, _session, callback) {
        presented.push((socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256 ?? '');
        callback();
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback());
      },
    } as ConstructorParameters<typeof SMTPServer>[0]);
    await new Promise<void>((resolve) => connector.listen(0, '127.0.0.1', resolve));
    try {
      t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { holdRemote: false, smartHost: {
        host: '127.0.0.1', port: (connector.server.address() as AddressInfo).port, security: 'starttls', verifyCertificate: false, authentication: 'none', user: null, password: null, clientCertificate: 'connector',
      } } });
      const id = await submit(t.port, { user: 'alice', from: 'alice@example.com', to: 'partner@elsewhere.test' });
      await eventually(() => t.app.store.getMessage(id)?.state === 'done', 10_000);
      expect(t.app.store.getMessage(id)?.recipients[0]?.state).toBe('delivered');
      expect(presented).toContain(certificate.fingerprintSha256);
    } finally {
      await new Promise<void>((resolve) => connector.close(() => resolve()));
    }
  });
});
