// Outbound delivery against real smtp-server instances on loopback acting as the smart host
// (STARTTLS + AUTH): delivery, a 4xx that succeeds on retry (intervals shortened by
// configuration, not by stubbing a clock), a 5xx that returns an RFC 3464 report to the sender,
// a host that is down, hold, and the queue operations.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Answer } from 'dns-packet';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../server/tls/certificate-tools';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';
import { createAdminHandlers } from '../../server/admin';
import { cli } from '../helpers/serve-process';
import { droppedMessages, eventually, startTestApp, type TestApp } from '../helpers/test-app';

interface Received { from: string; to: string[]; body: string; user: string | null; secure: boolean }

class SmartHostSink {
  received: Received[] = [];
  attempts = new Map<string, number>();
  /** Connections open now and at most; a delay before answering DATA keeps them open longer. */
  active = 0;
  maxActive = 0;
  dataDelayMs = 0;
  certPem = '';
  server!: SMTPServer;
  port = 0;

  async start(): Promise<void> {
    const { certPem, keyPem } = await createSelfSignedCertificate({ commonName: 'smarthost.test' });
    this.certPem = certPem;
    this.server = new SMTPServer({
      key: keyPem, cert: certPem, logger: false,
      onConnect: (_s, cb) => { this.active++; this.maxActive = Math.max(this.maxActive, this.active); cb(); },
      onClose: () => { this.active--; }, disableReverseLookup: true, authMethods: ['PLAIN', 'LOGIN'], authOptional: true,
      onAuth: (auth, _s, cb) => cb(auth.username === 'relay' && auth.password === 'relay-secret' ? null : new Error('bad'), { user: auth.username }),
      onRcptTo: (address, _s, cb) => {
        const n = (this.attempts.get(address.address) ?? 0) + 1;
        this.attempts.set(address.address, n);
        if (address.address.startsWith('perm@')) return cb(Object.assign(new Error('5.1.1 User unknown'), { responseCode: 550 }));
        if (address.address.startsWith('temp@') && n === 1) return cb(Object.assign(new Error('4.2.0 Try again later'), { responseCode: 451 }));
        cb();
      },
      onData: (stream, session, cb) => {
        let body = '';
        stream.on('data', (c: Buffer) => { body += c.toString(); });
        stream.on('end', () => {
          this.received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), body, user: session.user ? String(session.user) : null, secure: session.secure });
          setTimeout(() => cb(), this.dataDelayMs);
        });
      },
    });
    // A client killed mid-session resets its connection; smtp-server re-emits that on the server.
    this.server.on('error', () => undefined);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as { port: number }).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const PASSWORD = 'correct horse battery';
const sink = new SmartHostSink();
const open: TestApp[] = [];
beforeAll(() => sink.start());
afterAll(() => sink.stop());
afterEach(async () => { for (const t of open.splice(0)) await t.close(); });

async function submit(t: TestApp, to: string[], options: { from?: string; headers?: string } = {}): Promise<string> {
  const { client } = await RawSmtp.connect(t.port);
  await client.command('EHLO office.test');
  await client.startTls();
  await client.command('EHLO office.test');
  await client.command(`AUTH PLAIN ${plainAuth('alice', PASSWORD)}`);
  await client.command(`MAIL FROM:<${options.from ?? 'alice@example.com'}>`);
  for (const r of to) await client.command(`RCPT TO:<${r}>`);
  await client.command('DATA');
  const reply = await client.command(`${options.headers ?? ''}Subject: quarterly report\r\nMessage-ID: <q4@example.com>\r\n\r\nFigures attached.\r\n.`);
  client.close();
  return reply.raw.split(' ').pop() as string;
}

function smartHostApp(extra: Record<string, unknown> = {}) {
  return startTestApp({
    users: [{ name: 'alice', password: PASSWORD }],
    domains: ['example.com'],
    server: {
      delivery: {
        holdRemote: false,
        smartHost: { host: '127.0.0.1', port: sink.port, security: 'starttls', verifyCertificate: false, authentication: 'basic', user: 'relay', password: 'relay-secret' },
        retryMinutes: { first: 0.02, second: 0.02, third: 0.02, subsequent: 0.02 },
        ...extra,
      } as never,
    },
  });
}

describe('delivery through a smart host', () => {
  it('delivers over STARTTLS with AUTH, retries a 4xx, and returns a 5xx to the sender as an RFC 3464 report', async () => {
    const t = await smartHostApp();
    open.push(t);
    const id = await submit(t, ['ok@remote.test', 'temp@remote.test', 'perm@remote.test']);
    const entry = await eventually(() => {
      const m = t.app.store.getMessage(id);
      return m && m.state === 'done' ? m : null;
    }, 15_000);
    expect(Object.fromEntries(entry.recipients.map((r) => [r.address, r.state]))).toEqual({ 'ok@remote.test': 'delivered', 'temp@remote.test': 'delivered', 'perm@remote.test': 'failed' });
    expect(entry.recipients.find((r) => r.address === 'temp@remote.test')?.attempts).toBe(2);
    expect(entry.recipients.find((r) => r.address === 'perm@remote.test')?.lastReply).toMatch(/550 5\.1\.1 User unknown/);

    const first = sink.received.find((r) => r.to.includes('ok@remote.test'));
    expect(first).toMatchObject({ from: 'alice@example.com', user: 'relay', secure: true });
    expect(first?.body).toMatch(/^Received: from office\.test/);
    expect(first?.body).toContain('Subject: quarterly report');
    expect(first?.body).not.toContain('X-Relaydesk-Envelope');
    expect(sink.received.some((r) => r.to.includes('temp@remote.test'))).toBe(true);

    // The report went to alice@example.com, a local domain: it is in the drop folder.
    const report = await eventually(() => droppedMessages(path.join(t.dir, 'drop')).find((text) => text.includes('multipart/report')));
    expect(report).toMatch(/^x-sender: \r\nx-receiver: alice@example\.com\r\n/);
    expect(report).toContain('Content-Type: multipart/report; report-type=delivery-status');
    expect(report).toContain('Final-Recipient: rfc822; perm@remote.test');
    expect(report).toContain('Action: failed');
    expect(report).toContain('Status: 5.1.1');
    expect(report).toContain('Content-Type: text/rfc822-headers');
    expect(report).toContain('Message-ID: <q4@example.com>');
    expect(report).not.toContain('ok@remote.test>: ');
  }, 30_000);

  it('keeps mail queued while the smart host is down, and delivers after retry now', async () => {
    const t = await smartHostApp({ smartHost: { host: '127.0.0.1', port: 1, security: 'none', verifyCertificate: true, authentication: 'none', user: null, password: null } });
    open.push(t);
    const id = await submit(t, ['later@remote.test']);
    const deferred = await eventually(() => {
      const r = t.app.store.getMessage(id)?.recipients[0];
      return r && r.attempts > 0 ? r : null;
    });
    expect(deferred).toMatchObject({ state: 'queued' });
    expect(deferred.lastReply).toMatch(/connection failed/);
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { smartHost: { host: '127.0.0.1', port: sink.port, security: 'starttls', verifyCertificate: false, authentication: 'basic', user: 'relay', password: 'relay-secret' }, retryMinutes: { first: 60, second: 60, third: 60, subsequent: 60 } } });
    t.app.store.setMessageState(id, 'retry');
    await eventually(() => t.app.store.getMessage(id)?.state === 'done', 10_000);
    expect(sink.received.some((r) => r.to.includes('later@remote.test'))).toBe(true);
  }, 30_000);
});

describe('accepted domains forwarded to an internal server', () => {
  it('hands their mail to host:port, not to the smart host', async () => {
    const t = await smartHostApp({ smartHost: { host: '127.0.0.1', port: 1, security: 'none', verifyCertificate: true, authentication: 'none', user: null, password: null } });
    open.push(t);
    t.app.store.addAcceptedDomain({ domain: 'branch.example', action: 'forward', forwardTo: `127.0.0.1:${sink.port}` });
    await t.app.engine.reconcile();
    const id = await submit(t, ['anna@branch.example']);
    await eventually(() => t.app.store.getMessage(id)?.state === 'done', 10_000);
    expect(sink.received.find((r) => r.to.includes('anna@branch.example'))).toMatchObject({ user: null, secure: true });
  }, 20_000);
});

describe('relaydesk smarthost', () => {
  it('fills in a preset, keeps the password out of plain exports, and clears', async () => {
    const t = await startTestApp();
    await t.app.stop(20);
    const data = ['--data', t.dir];
    const set = await cli(['smarthost', 'set', DEFAULT_SERVER_NAME, '--preset', 'microsoft365', '--user', 'scanner@contoso.example', '--password-stdin', ...data], 'app-password-1\n');
    expect(set.stdout.split('\n')[0]).toBe(`relaydesk: ${DEFAULT_SERVER_NAME} sends mail for other domains through smtp.office365.com as scanner@contoso.example`);
    // The preset says what Microsoft 365 needs on its side, in its admin center's words.
    expect(set.stdout).toContain("On the provider's side: Sign in as a licensed mailbox with OAuth2");
    expect(set.stdout).toContain('Manage email apps → Authenticated SMTP');
    const exported = JSON.parse((await cli(['config', 'export', ...data])).stdout) as { servers: Array<{ delivery: { smartHost: Record<string, unknown> } }> };
    expect(exported.servers[0]?.delivery.smartHost).toEqual({ host: 'smtp.office365.com', port: 587, security: 'starttls', verifyCertificate: true, authentication: 'basic', user: 'scanner@contoso.example', password: null, trustedCertificate: null, oauth2: null,
      transport: 'smtp', graphUrl: null, clientCertificate: null, maxMessagesPerMinute: 30, maxRecipientsPerDay: 10_000 });
    expect((await cli(['config', 'export', '--with-secrets', ...data])).stdout).toContain('"password": "app-password-1"');
    expect((await cli(['smarthost', 'set', DEFAULT_SERVER_NAME, '--preset', 'nope', ...data])).code).toBe(2);
    expect((await cli(['smarthost', 'clear', DEFAULT_SERVER_NAME, ...data])).code).toBe(0);
    expect((await cli(['config', 'export', ...data])).stdout).toContain('"smartHost": null');
    fs.rmSync(t.dir, { recursive: true, force: true });
  });
});

describe('queue operations', () => {
  it('shows, freezes, thaws and deletes from the CLI, with a report when asked', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'] });
    const id = await submit(t, ['held@remote.test']);
    await t.app.stop(50);
    const data = ['--data', t.dir];
    const shown = (await cli(['queue', 'show', id, ...data])).stdout;
    expect(shown).toMatch(new RegExp(`^${id} \\(queued\\)[\\s\\S]*to <held@remote\\.test> remote queued, 0 attempt\\(s\\)`));
    expect(shown).toMatch(/ {2}headers:\n {4}Received: from office\.test[\s\S]*\n {4}Subject: quarterly report\n {4}Message-ID: <q4@example\.com>\n$/);
    expect((await cli(['queue', 'list', '--destination', 'remote.test', ...data])).stdout).toContain(`${id}\tqueued`);
    expect((await cli(['queue', 'list', '--destination', 'remote', '--state', 'queued', ...data])).stdout).toContain(`${id}\tqueued`);
    expect((await cli(['queue', 'list', '--destination', 'other.test', ...data])).stdout).toBe('The queue is empty.\n');
    expect((await cli(['queue', 'list', '--state', 'done', ...data])).stdout).toBe('The queue is empty.\n');
    expect((await cli(['queue', 'list', '--state', 'stuck', ...data])).code).toBe(2);
    expect((await cli(['queue', 'freeze', id, ...data])).stdout).toContain('frozen');
    expect((await cli(['queue', 'list', ...data])).stdout).toContain(`${id}\tfrozen`);
    expect((await cli(['queue', 'thaw', id, ...data])).stdout).toContain('thawed');
    expect((await cli(['queue', 'delete', id, '--ndr', ...data])).stdout).toBe(`relaydesk: ${id} deleted (the sender was told)\n`);
    const list = (await cli(['queue', 'list', ...data])).stdout;
    expect(list).not.toContain(`${id}\t`);
    expect(list).toMatch(/from <>\talice@example\.com=queued/); // the report, waiting for local delivery
    expect((await cli(['queue', 'show', 'NOPE', ...data])).stderr).toBe('relaydesk: no message NOPE in the queue\n');
    fs.rmSync(t.dir, { recursive: true, force: true });
  }, 30_000);
});

describe('direct delivery by MX', () => {
  it('looks up the MX with the configured DNS server and delivers there; a domain without mail servers is returned', async () => {
    const dgram = await import('node:dgram');
    const dnsPacket = (await import('dns-packet')).default;
    const zone: Record<string, Answer[]> = {
      'MX remote-mx.test': [{ type: 'MX', name: 'remote-mx.test', ttl: 60, data: { preference: 10, exchange: 'mx1.remote-mx.test' } }],
      'A mx1.remote-mx.test': [{ type: 'A', name: 'mx1.remote-mx.test', ttl: 60, data: '127.0.0.1' }],
    };
    const dns = dgram.createSocket('udp4');
    dns.on('message', (msg, rinfo) => {
      const query = dnsPacket.decode(msg);
      const q = query.questions?.[0];
      if (!q) return;
      const answers = zone[`${q.type} ${q.name}`] ?? [];
      dns.send(dnsPacket.encode({ id: query.id, type: 'response', flags: dnsPacket.RECURSION_AVAILABLE | (answers.length || q.name.endsWith('remote-mx.test') ? 0 : 3), questions: [q], answers }), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => dns.bind(0, '127.0.0.1', () => resolve()));
    try {
      const t = await startTestApp({
        users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'],
        server: { delivery: { holdRemote: false, dnsServers: [`127.0.0.1:${dns.address().port}`], outboundPort: sink.port, retryMinutes: { first: 0.02, second: 0.02, third: 0.02, subsequent: 0.02 } } as never },
      });
      open.push(t);
      const id = await submit(t, ['direct@remote-mx.test', 'nobody@no-such-domain.test']);
      const entry = await eventually(() => {
        const m = t.app.store.getMessage(id);
        return m && m.state === 'done' ? m : null;
      }, 15_000);
      expect(Object.fromEntries(entry.recipients.map((r) => [r.address, r.state]))).toEqual({ 'direct@remote-mx.test': 'delivered', 'nobody@no-such-domain.test': 'failed' });
      expect(entry.recipients.find((r) => r.address === 'nobody@no-such-domain.test')?.lastReply).toMatch(/5\.1\.2|DNS lookup/);
      expect(sink.received.find((r) => r.to.includes('direct@remote-mx.test'))).toMatchObject({ from: 'alice@example.com', user: null, secure: true });
    } finally {
      dns.close();
    }
  }, 30_000);
});

describe('pickup folder', () => {
  it('queues good files, never half-written ones, and moves bad ones to badmail with the reason', async () => {
    const t = await startTestApp({ domains: ['example.com'] });
    open.push(t);
    const pickup = path.join(t.dir, 'pickup');
    await eventually(() => fs.existsSync(pickup));
    fs.writeFileSync(path.join(pickup, 'iis-style.eml'), 'x-sender: erp@example.com\r\nx-receiver: ap@example.com\r\nx-receiver: far@elsewhere.net\r\nFrom: ERP <erp@example.com>\r\nSubject: Invoice 1001\r\n\r\nPlease pay.\r\n');
    fs.writeFileSync(path.join(pickup, 'headers.eml'), 'From: crm@example.com\r\nTo: sales@example.com\r\nBcc: boss@example.com\r\nSubject: New lead\r\n\r\nA lead.\r\n');
    fs.writeFileSync(path.join(pickup, 'broken.eml'), 'this is not a message at all');
    // A file still being written, a line every 100 ms for 1.2 s (scans come every 500 ms, in the
    // same event loop, so each sees it changed): never taken half-written; the rest comes last.
    const growing = path.join(pickup, 'growing.eml');
    fs.writeFileSync(growing, 'From: slow@example.com\r\nTo: late@example.com\r\n');
    for (let line = 0; line < 12; line++) {
      await new Promise((r) => setTimeout(r, 100));
      expect(fs.existsSync(growing)).toBe(true);
      fs.appendFileSync(growing, `X-Part: ${line}\r\n`);
    }
    fs.appendFileSync(growing, 'Subject: written slowly\r\n\r\nDone now.\r\n');

    await eventually(() => fs.readdirSync(pickup).length === 0, 10_000);
    const dropped = await eventually(() => {
      const messages = droppedMessages(path.join(t.dir, 'drop'));
      return messages.length >= 3 ? messages : null;
    });
    const invoice = dropped.find((m) => m.includes('Subject: Invoice 1001'));
    expect(invoice).toMatch(/^x-sender: erp@example\.com\r\nx-receiver: ap@example\.com\r\nReceived: from pickup folder/);
    expect(invoice).not.toMatch(/x-receiver: far@elsewhere\.net/); // remote: queued, not dropped
    const lead = dropped.find((m) => m.includes('Subject: New lead')) as string;
    expect(lead).toContain('x-receiver: sales@example.com\r\n');
    expect(lead).toContain('x-receiver: boss@example.com\r\n');
    expect(lead).not.toMatch(/^Bcc:/m);
    expect(dropped.some((m) => m.includes('Subject: written slowly') && m.includes('Done now.'))).toBe(true);
    const bad = fs.readdirSync(path.join(t.dir, 'badmail'));
    expect(bad.filter((f) => f.startsWith('broken-')).map((f) => path.extname(f)).sort()).toEqual(['.bad', '.bdr']);
    const reason = fs.readFileSync(path.join(t.dir, 'badmail', bad.find((f) => f.endsWith('.bdr')) as string), 'utf8');
    expect(reason).toContain('Reason: no blank line after the headers');
  }, 30_000);

  it('takes a file only after it stayed unchanged for most of a poll interval, however often it is scanned', async () => {
    // Scans that come back to back (after a slow one) must not take a slow writer's file.
    const t = await startTestApp({ domains: ['example.com'] });
    open.push(t);
    const pickup = path.join(t.dir, 'pickup');
    await eventually(() => fs.existsSync(pickup));
    const file = path.join(pickup, 'paused-writer.eml');
    fs.writeFileSync(file, 'From: erp@example.com\r\nTo: ap@example.com\r\nSubject: paused\r\n\r\nfirst part, then a pause\r\n');
    const writtenAt = Date.now();
    for (let scan = 0; scan < 5; scan++) await t.app.pickup.scan();
    // (On a machine so busy that five scans took longer than that, taking it would be right.)
    if (Date.now() - writtenAt < 350) expect(fs.existsSync(file)).toBe(true);
    await eventually(() => !fs.existsSync(file), 5000);
    // Queued when it left the pickup folder; delivered to the drop folder a moment later.
    await eventually(() => droppedMessages(path.join(t.dir, 'drop')).some((m) => m.includes('first part, then a pause')), 5000);
  }, 15_000);
});

const dropped = (t: TestApp) => droppedMessages(path.join(t.dir, 'drop'));
const DOWN = { host: '127.0.0.1', port: 1, security: 'none', verifyCertificate: true, authentication: 'none', user: null, password: null };

describe('reports, loops and rewriting', () => {
  it('tells the sender once that mail is delayed (RFC 3464 Action: delayed), and keeps retrying', async () => {
    // 0.0004 h = 1.4 s: the notice comes at the first attempt after that, never twice.
    const t = await smartHostApp({ smartHost: DOWN, delayNotificationHours: 0.0004 });
    open.push(t);
    const id = await submit(t, ['slow@remote.test']);
    const notice = await eventually(() => dropped(t).find((text) => text.includes('Action: delayed')), 15_000);
    expect(notice).toContain('Subject: Delayed Mail (still being retried)');
    expect(notice).toContain('Final-Recipient: rfc822; slow@remote.test');
    expect(notice).toMatch(/Status: 4\.\d+\.\d+/);
    expect(notice).toMatch(/Will-Retry-Until: \w{3}, /);
    expect(notice).toContain('Message-ID: <q4@example.com>');
    const before = t.app.store.getMessage(id)?.recipients[0]?.attempts ?? 0;
    await eventually(() => (t.app.store.getMessage(id)?.recipients[0]?.attempts ?? 0) >= before + 2, 15_000);
    expect(dropped(t).filter((text) => text.includes('Action: delayed'))).toHaveLength(1);
    expect(t.app.store.getMessage(id)).toMatchObject({ state: 'queued', recipients: [{ state: 'queued', delayNotified: true }] });
    // What the Queues page shows: "retrying", found by that filter and not by "failed" or "delivered".
    const api = createAdminHandlers(t.app);
    const retrying = (await api['queue.list']({ status: 'retrying', limit: 200 })).messages;
    expect(retrying.find((m) => m.id === id)).toMatchObject({ status: 'retrying' });
    expect((await api['queue.list']({ status: 'failed', limit: 200 })).messages.some((m) => m.id === id)).toBe(false);
    expect((await api['queue.list']({ status: 'delivered', limit: 200 })).messages.some((m) => m.id === id)).toBe(false);
    await api['queue.action']({ id, action: 'freeze' });
    expect((await api['queue.list']({ status: 'frozen', limit: 200 })).messages.map((m) => m.id)).toContain(id);
  }, 40_000);

  it('moves undeliverable mail from the null sender to badmail with the reason, and sends no report', async () => {
    const t = await smartHostApp();
    open.push(t);
    const id = await submit(t, ['perm@remote.test'], { from: '' });
    const bdr = path.join(t.dir, 'badmail', `${id}.bdr`);
    await eventually(() => fs.existsSync(bdr), 10_000);
    expect(fs.readFileSync(bdr, 'utf8')).toMatch(/null sender[\s\S]*<perm@remote\.test>: 550 5\.1\.1 User unknown/);
    expect(fs.readFileSync(path.join(t.dir, 'badmail', `${id}.bad`), 'utf8')).toContain('Subject: quarterly report');
    expect(dropped(t).filter((text) => text.includes('multipart/report'))).toHaveLength(0);
  }, 20_000);

  it('returns a looping message (more Received headers than the hop limit) instead of sending it on', async () => {
    const t = await smartHostApp({ maxHopCount: 3 });
    open.push(t);
    const hops = Array.from({ length: 3 }, (_, i) => `Received: from hop${i}.test by relay${i}.test; Fri, 27 Nov 2026 10:00:0${i} +0000\r\n`).join('');
    const id = await submit(t, ['loop@remote.test'], { headers: hops });
    await eventually(() => t.app.store.getMessage(id)?.state === 'done', 10_000);
    expect(t.app.store.getMessage(id)?.recipients[0]?.lastReply).toMatch(/^554 5\.4\.6 Too many hops \(4 Received headers, limit 3\)/);
    expect(sink.received.some((r) => r.to.includes('loop@remote.test'))).toBe(false);
    const report = await eventually(() => dropped(t).find((text) => text.includes('Final-Recipient: rfc822; loop@remote.test')));
    expect(report).toContain('Status: 5.4.6');
  }, 20_000);

  it('rewrites the envelope sender to the masquerade domain', async () => {
    const t = await smartHostApp({ masqueradeDomain: 'mail.example.org' });
    open.push(t);
    const id = await submit(t, ['masq@remote.test']);
    await eventually(() => t.app.store.getMessage(id)?.state === 'done', 10_000);
    expect(sink.received.find((r) => r.to.includes('masq@remote.test'))?.from).toBe('alice@mail.example.org');
  }, 20_000);
});

describe('outbound connection limits', () => {
  it('opens at most the per-destination number of connections to the smart host, and delivers everything', async () => {
    const t = await smartHostApp({ holdRemote: true, outboundConnections: 10, outboundConnectionsPerDomain: 2 });
    open.push(t);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await submit(t, [`limit${i}@remote.test`]));
    sink.maxActive = sink.active;
    sink.dataDelayMs = 150;
    try {
      t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { holdRemote: false } });
      t.app.remoteDelivery.wake();
      await eventually(() => ids.every((id) => t.app.store.getMessage(id)?.state === 'done'), 20_000);
    } finally {
      sink.dataDelayMs = 0;
    }
    expect(sink.maxActive).toBe(2);
    for (let i = 0; i < 8; i++) expect(sink.received.some((r) => r.to.includes(`limit${i}@remote.test`))).toBe(true);
  }, 30_000);
});

describe('trusting a smart host by fingerprint', () => {
  it('refuses an unverifiable certificate, trusts it only under the right fingerprint, then delivers', async () => {
    const t = await smartHostApp({
      smartHost: { host: '127.0.0.1', port: sink.port, security: 'starttls', verifyCertificate: true, authentication: 'basic', user: 'relay', password: 'relay-secret' },
      retryMinutes: { first: 60, second: 60, third: 60, subsequent: 60 },
    });
    open.push(t);
    const id = await submit(t, ['pinned@remote.test']);
    const refused = await eventually(() => {
      const r = t.app.store.getMessage(id)?.recipients[0];
      return r && r.attempts > 0 ? r : null;
    }, 10_000);
    expect(refused.lastReply).toMatch(/self[- ]signed certificate/i);
    expect(sink.received.some((r) => r.to.includes('pinned@remote.test'))).toBe(false);

    const data = ['--data', t.dir];
    const shown = await cli(['smarthost', 'certificate', DEFAULT_SERVER_NAME, ...data]);
    const fingerprint = new crypto.X509Certificate(sink.certPem).fingerprint256;
    expect(shown.stdout).toContain(`SHA-256:     ${fingerprint}`);
    expect(shown.stdout).toMatch(/Verifies: {4}no \(/);
    expect(shown.stdout).toContain('Trusted pin: none');

    const wrong = await cli(['smarthost', 'trust', DEFAULT_SERVER_NAME, '--fingerprint', 'AB'.repeat(32), ...data]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/presents a certificate with fingerprint [0-9A-F:]{95}, not AB:AB:.*nothing was changed/);
    expect(t.app.store.getServer(DEFAULT_SERVER_NAME).delivery.smartHost?.trustedCertificate).toBeNull();
    expect((await cli(['smarthost', 'trust', DEFAULT_SERVER_NAME, '--fingerprint', 'xyz', ...data])).stderr).toMatch(/64 hexadecimal digits/);

    const trusted = await cli(['smarthost', 'trust', DEFAULT_SERVER_NAME, '--fingerprint', fingerprint.replace(/:/g, '').toLowerCase(), ...data]);
    expect(trusted.stdout).toContain(`trusts the smart host's certificate ${fingerprint}`);
    await eventually(() => t.app.store.getServer(DEFAULT_SERVER_NAME).delivery.smartHost?.trustedCertificate);
    t.app.store.setMessageState(id, 'retry');
    await eventually(() => t.app.store.getMessage(id)?.state === 'done', 10_000);
    expect(sink.received.find((r) => r.to.includes('pinned@remote.test'))).toMatchObject({ user: 'relay', secure: true });

    // A different certificate under the same name is refused again: the pin is the certificate, not the name.
    const other = await createSelfSignedCertificate({ commonName: 'smarthost.test' });
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { smartHost: { ...t.app.store.getServer(DEFAULT_SERVER_NAME).delivery.smartHost!, trustedCertificate: other.certPem } } });
    const second = await submit(t, ['pinned2@remote.test']);
    const refusedAgain = await eventually(() => {
      const r = t.app.store.getMessage(second)?.recipients[0];
      return r && r.attempts > 0 ? r : null;
    }, 10_000);
    expect(refusedAgain.state).toBe('queued');
    expect(sink.received.some((r) => r.to.includes('pinned2@remote.test'))).toBe(false);
    expect((await cli(['smarthost', 'trust', DEFAULT_SERVER_NAME, '--clear', ...data])).stdout).toContain('no longer trusts a pinned certificate');
  }, 40_000);
});
