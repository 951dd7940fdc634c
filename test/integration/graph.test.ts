// Microsoft Graph as the transport for mail to other domains (#16), against loopback fakes of the
// identity platform and of Graph (test/helpers/microsoft-fakes.ts): app-only with a client secret
// and with a certificate (a signed client assertion), the message sent as accepted (base64 MIME),
// Retry-After, refusals mapped to queue states and explained in plain words, the provider's caps.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdminHandlers } from '../../server/admin';
import { DEFAULT_SERVER_NAME, graphScope } from '../../server/contract/settings';
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';
import { CLIENT_ID, type GraphFake, MAILBOX, SECRET, startGraphFake, startTokenFake, TENANT, type TokenFake } from '../helpers/microsoft-fakes';
import { cli, preparedDataDir, serve as startServe } from '../helpers/serve-process';
import { droppedMessages, eventually, startTestApp, type TestApp } from '../helpers/test-app';

const PASSWORD = 'correct horse battery';

let graph: GraphFake;
let tokens: TokenFake;
const open: TestApp[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  tokens = await startTokenFake({ tenant: TENANT, clientId: CLIENT_ID, clientSecret: SECRET, scope: 'PLACEHOLDER' });
});
afterAll(async () => {
  await tokens.close();
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const t of open.splice(0)) await t.close();
  await graph?.close();
});

async function fakes(certificatePem?: string): Promise<{ tokens: TokenFake; graph: GraphFake }> {
  await tokens.close();
  graph = await startGraphFake(() => tokens.issued);
  tokens = await startTokenFake({ tenant: TENANT, clientId: CLIENT_ID, clientSecret: SECRET, ...(certificatePem ? { certificatePem } : {}), scope: graphScope(graph.url, 'app') });
  return { tokens, graph };
}

async function graphApp(caps: { maxMessagesPerMinute?: number | null } = {}): Promise<TestApp> {
  await fakes();
  const t = await startTestApp({
    users: [{ name: 'alice', password: PASSWORD }],
    domains: ['example.com'],
    server: {
      delivery: {
        holdRemote: false,
        retryMinutes: { first: 0.01, second: 0.01, third: 0.01, subsequent: 0.01 },
        smartHost: {
          transport: 'graph', graphUrl: graph.url, host: '127.0.0.1', port: 443, security: 'tls', verifyCertificate: true, authentication: 'oauth2', user: MAILBOX, password: null,
          trustedCertificate: null, maxMessagesPerMinute: caps.maxMessagesPerMinute ?? null, maxRecipientsPerDay: null,
          oauth2: { provider: 'microsoft365', tenant: TENANT, clientId: CLIENT_ID, clientSecret: SECRET, flow: 'app', authority: tokens.url, scope: graphScope(graph.url, 'app') },
        },
      },
    },
  });
  open.push(t);
  return t;
}

async function submit(port: number, to: string[], body = 'Scanned page.', from = 'alice@example.com'): Promise<string> {
  const { client } = await RawSmtp.connect(port);
  await client.command('EHLO office.test');
  await client.startTls();
  await client.command('EHLO office.test');
  expect((await client.command(`AUTH PLAIN ${plainAuth('alice', PASSWORD)}`)).code).toBe(235);
  await client.command(`MAIL FROM:<${from}>`);
  for (const address of to) expect((await client.command(`RCPT TO:<${address}>`)).code).toBe(250);
  await client.command('DATA');
  const reply = await client.command(`From: <${from}>\r\nTo: <${to[0]}>\r\nSubject: scan\r\n\r\n${body}\r\n.`);
  client.close();
  expect(reply.code).toBe(250);
  return reply.raw.split(' ').pop() as string;
}

describe('Microsoft Graph transport', () => {
  it('sends the message as accepted (base64 MIME) with an app-only token; envelope recipients the headers do not name go as Bcc', async () => {
    const t = await graphApp();
    const id = await submit(t.port, ['bob@partner.test', 'hidden@partner.test']);
    await eventually(() => t.app.store.getMessage(id)?.state === 'done', 10_000);
    expect(graph.sent).toHaveLength(1);
    const sent = graph.sent[0];
    expect(sent?.mailbox).toBe(MAILBOX);
    expect(tokens.issued).toContain(sent?.token);
    // What Graph received is the queued message byte for byte, behind one added Bcc line.
    const message = t.app.store.getMessage(id);
    expect(message?.body).toBe('removed');
    expect(sent?.mime.toString('latin1')).toMatch(/^Bcc: hidden@partner\.test\r\nReceived: from office\.test/);
    expect(sent?.mime.toString('latin1')).toContain('\r\nSubject: scan\r\n\r\nScanned page.\r\n');
    expect(message?.recipients.map((r) => [r.address, r.state])).toEqual([['bob@partner.test', 'delivered'], ['hidden@partner.test', 'delivered']]);
    expect(message?.recipients[0]?.lastReply).toMatch(/^250 2\.0\.0 Accepted by Microsoft Graph sendMail as relay@contoso\.com \(202, request-id /);
  });

  it('honours 429 Retry-After, then delivers; the wait is explained as throttling', async () => {
    const t = await graphApp();
    graph.script.push({ status: 429, code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.', retryAfter: '2' });
    const before = Date.now();
    const id = await submit(t.port, ['bob@partner.test']);
    const deferred = await eventually(() => t.app.store.getMessage(id)?.recipients.find((r) => r.attempts === 1));
    expect(deferred.lastReply).toMatch(/^451 4\.7\.500 Microsoft Graph busy \(HTTP 429 ApplicationThrottled: .*\); retry after 2 s$/);
    expect(Date.parse(deferred.nextAttemptAt ?? '')).toBeGreaterThanOrEqual(before + 2000);
    const details = await createAdminHandlers(t.app)['queue.show']({ id });
    expect(details.recipients[0]?.explanation?.id).toBe('m365-throttled');
    expect((await t.app.activeWarnings()).map((w) => w.id)).toContain('upstream:m365-throttled');
    await eventually(() => t.app.store.getMessage(id)?.state === 'done', 10_000);
    expect(graph.requests).toBe(2);
  });

  it('fails SendAsDenied with a report to the sender and the fix in plain words; a 401 fetches a new token', async () => {
    const t = await graphApp();
    graph.script.push({ status: 401, code: 'InvalidAuthenticationToken', message: 'Lifetime validation failed, the token is expired.' });
    const first = await submit(t.port, ['bob@partner.test']);
    await eventually(() => t.app.store.getMessage(first)?.state === 'done', 10_000);
    expect(tokens.issued.length).toBeGreaterThanOrEqual(2);

    graph.script.push({ status: 403, code: 'ErrorSendAsDenied', message: 'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account.' });
    const id = await submit(t.port, ['carol@partner.test'], 'Invoice.', 'alice@example.com');
    await eventually(() => t.app.store.getMessage(id)?.state === 'done', 10_000);
    const recipient = t.app.store.getMessage(id)?.recipients[0];
    expect(recipient?.state).toBe('failed');
    expect(recipient?.lastReply).toMatch(/^550 5\.7\.60 Microsoft Graph: relay@contoso\.com may not send as this sender \(ErrorSendAsDenied: /);
    const details = await createAdminHandlers(t.app)['queue.show']({ id });
    expect(details.recipients[0]?.explanation?.fix).toContain('Delegation → Send as');
    // The report went to the sender (example.com is local here: the drop folder).
    await eventually(() => droppedMessages(t.app.dropFolderFor(DEFAULT_SERVER_NAME)).some((text) => text.includes('Status: 5.7.60')));
    const warning = (await t.app.activeWarnings()).find((w) => w.id === 'upstream:m365-send-as-denied');
    expect(warning?.message).toContain('1 failed in the last 24 hours');
  });

  it('refuses a message over Graph\'s request limit with a report, without sending it', async () => {
    const t = await graphApp();
    const big = `${'x'.repeat(998)}\r\n`.repeat(3300);
    const id = await submit(t.port, ['bob@partner.test'], big);
    await eventually(() => t.app.store.getMessage(id)?.state === 'done', 15_000);
    expect(t.app.store.getMessage(id)?.recipients[0]?.lastReply).toMatch(/^552 5\.3\.4 Message too large for Microsoft Graph's request limit/);
    expect(graph.requests).toBe(0);
    expect((await createAdminHandlers(t.app)['queue.show']({ id })).recipients[0]?.explanation?.id).toBe('graph-too-large');
  }, 30_000);

  it('sends a message over Graph\'s limit through the fallback route instead (failover on 5.3.4)', async () => {
    const { SMTPServer } = await import('smtp-server');
    const received: number[] = [];
    const sink = new SMTPServer({ authOptional: true, logger: false, disabledCommands: ['AUTH'], onData(stream, _session, callback) {
      let size = 0;
      stream.on('data', (chunk: Buffer) => { size += chunk.length; });
      stream.on('end', () => { received.push(size); callback(); });
    } });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    try {
      const t = await graphApp();
      const graphRoute = t.app.store.getServer(DEFAULT_SERVER_NAME).delivery.smartHost;
      t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: {
        smartHost: { host: '127.0.0.1', port: (sink.server.address() as import('node:net').AddressInfo).port, security: 'starttls', verifyCertificate: false, authentication: 'none', user: null, password: null },
        routes: [{ name: 'Graph', smartHost: graphRoute, failover: { route: 'default', on: ['5.3.4'] } }],
      } });
      const small = await submit(t.port, ['bob@partner.test']);
      const big = await submit(t.port, ['bob@partner.test'], `${'x'.repeat(998)}\r\n`.repeat(3300));
      await eventually(() => t.app.store.getMessage(small)?.state === 'done' && t.app.store.getMessage(big)?.state === 'done', 15_000);
      expect(graph.sent).toHaveLength(1);
      expect(received).toHaveLength(1);
      expect(received[0]).toBeGreaterThan(3_000_000);
      expect(t.app.store.getMessage(big)?.recipients[0]?.state).toBe('delivered');
    } finally {
      await new Promise<void>((resolve) => sink.close(() => resolve()));
    }
  }, 30_000);

  it('keeps to the route\'s cap: over it, mail waits in the queue without an attempt and the admin is told', async () => {
    const t = await graphApp({ maxMessagesPerMinute: 2 });
    const warnings: string[] = [];
    t.app.bus.subscribe((e) => { if (e.type === 'warning') warnings.push(e.message); });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await submit(t.port, [`r${i}@partner.test`]));
    await eventually(() => graph.sent.length === 2, 10_000);
    await eventually(() => warnings.some((w) => w.includes('held back')));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(graph.sent).toHaveLength(2);
    expect((await t.app.activeWarnings()).map((w) => w.id)).toContain(`held-back:${DEFAULT_SERVER_NAME}`);
    const waiting = ids.map((id) => t.app.store.getMessage(id)).filter((m) => m?.state === 'queued');
    expect(waiting).toHaveLength(2);
    for (const m of waiting) {
      expect(m?.recipients[0]?.attempts).toBe(0);
      expect(Date.parse(m?.recipients[0]?.nextAttemptAt ?? '')).toBeGreaterThan(Date.now() + 30_000);
    }
  });
});

describe('relaydesk smarthost graph --delegated', () => {
  it('signs in as the mailbox with a device code (Mail.Send delegated) and sends through Graph with that token', async () => {
    const dir = await preparedDataDir();
    try {
      await tokens.close();
      graph = await startGraphFake(() => tokens.issued);
      tokens = await startTokenFake({ tenant: TENANT, clientId: CLIENT_ID, scope: 'unused', delegatedScope: graphScope(graph.url, 'device') });
      await cli(['server', 'set', DEFAULT_SERVER_NAME, 'delivery.holdRemote=false', '--data', dir]);
      expect((await cli(['user', 'add', 'alice', '--password-stdin', '--data', dir], `${PASSWORD}\n`)).code).toBe(0);
      const set = await cli(['smarthost', 'graph', DEFAULT_SERVER_NAME, '--tenant', TENANT, '--client-id', CLIENT_ID, '--delegated', 'device', '--mailbox', MAILBOX,
        '--login-url', tokens.url, '--graph-url', graph.url, '--data', dir]);
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toContain('Delegated permissions → Mail.Send');
      const { spawn } = await import('node:child_process');
      const { BIN } = await import('../helpers/serve-process');
      const signIn = spawn(process.execPath, [BIN, 'smarthost', 'signin', DEFAULT_SERVER_NAME, '--data', dir], { stdio: 'pipe' });
      children.push(signIn);
      let out = '';
      signIn.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const userCode = await eventually(() => /enter the code:\s+(\S+)/.exec(out)?.[1], 10_000);
      tokens.approve(userCode, MAILBOX);
      await eventually(() => out.includes(`signed in as ${MAILBOX}`), 15_000);
      const served = await startServe(dir);
      children.push(served.child);
      await submit(served.port, ['bob@partner.test']);
      await eventually(() => graph.sent.length === 1, 10_000);
      expect(tokens.issued).toContain(graph.sent[0]?.token);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('relaydesk smarthost graph', () => {
  it('sets Graph app-only with a certificate from the store; serve signs in with a signed client assertion and delivers', async () => {
    const dir = await preparedDataDir();
    try {
      const created = await cli(['cert', 'create', 'graph-app', '--cn', 'relaydesk-graph', '--type', 'rsa2048', '--data', dir]);
      expect(created.code, created.stderr).toBe(0);
      const certificatePem = (await cli(['cert', 'export', 'graph-app', '--data', dir])).stdout;
      await fakes(certificatePem);
      await cli(['server', 'set', DEFAULT_SERVER_NAME, 'delivery.holdRemote=false', '--data', dir]);
      expect((await cli(['user', 'add', 'alice', '--password-stdin', '--data', dir], `${PASSWORD}\n`)).code).toBe(0);

      const both = await cli(['smarthost', 'graph', DEFAULT_SERVER_NAME, '--tenant', TENANT, '--client-id', CLIENT_ID, '--certificate', 'graph-app', '--client-secret-stdin', '--mailbox', MAILBOX, '--data', dir], 'x\n');
      expect(both.code).toBe(2);
      const remote = await cli(['smarthost', 'graph', DEFAULT_SERVER_NAME, '--tenant', TENANT, '--client-id', CLIENT_ID, '--certificate', 'graph-app', '--mailbox', MAILBOX, '--graph-url', 'http://graph.example.com', '--data', dir]);
      expect(remote.code).toBe(2);
      expect(remote.stderr).toContain('--graph-url must be https');
      const set = await cli(['smarthost', 'graph', DEFAULT_SERVER_NAME, '--tenant', TENANT, '--client-id', CLIENT_ID, '--certificate', 'graph-app', '--mailbox', MAILBOX,
        '--login-url', tokens.url, '--graph-url', graph.url, '--data', dir]);
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toContain('Mail.Send');
      const check = await cli(['smarthost', 'signin', DEFAULT_SERVER_NAME, '--data', dir]);
      expect(check.code, `${check.stderr} ${tokens.refused.join('; ')}`).toBe(0);

      const tested = await cli(['smarthost', 'test', DEFAULT_SERVER_NAME, '--to', 'admin@partner.test', '--data', dir]);
      expect(tested.code, tested.stdout + tested.stderr).toBe(0);
      expect(tested.stdout).toContain('  ok   Sign in to Microsoft 365 as relay@contoso.com: app-only access token obtained');
      expect(tested.stdout).toContain('  ok   Send a test message to admin@partner.test through Microsoft Graph: 250 2.0.0 Accepted by Microsoft Graph');
      graph.sent.splice(0);

      const served = await startServe(dir);
      children.push(served.child);
      await submit(served.port, ['bob@partner.test']);
      await eventually(() => graph.sent.length === 1, 10_000);
      expect(tokens.refused).toEqual([]);
      expect(graph.sent[0]?.mime.toString('latin1')).toContain('Subject: scan');
      const shown = (await cli(['server', 'show', DEFAULT_SERVER_NAME, '--data', dir])).stdout;
      expect(shown).toMatch(/delivery\.smartHost\.transport\]/);
      expect(shown).not.toContain('PRIVATE KEY');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
