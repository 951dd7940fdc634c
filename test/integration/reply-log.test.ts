// Every reply code the server can send is in the log, with the code and the rule that decided it,
// over a real socket: the table below lists each one, the commands that provoke it, and the rule
// expected. Then: one filter for screen, store and export; "logging off" keeps the live view; and
// stock smtp-server instances elsewhere in the process are not patched.
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminHandlers } from '../../server/admin';
import type { RelaydeskEvent, SessionEvent } from '../../server/contract/events';
import { matchesLogView } from '../../server/contract/log-view';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';
import { csvLines, W3C_FIELD_NAMES, w3cField, w3cRecords } from '../helpers/log-export';
import { eventually, startTestApp, type TestApp } from '../helpers/test-app';

const PASSWORD = 'correct horse battery';

interface Case {
  desc: string;
  /** Client lines; "TLS" upgrades with STARTTLS, "AUTH" signs in as alice. */
  script: string[];
  code: number;
  rule: RegExp;
  from?: string;
  /** A refusal of the library's own: the command the log names with it (null: none, never an unknown line). */
  command?: string | null;
}

// A server that allows plain text (so the pre-TLS replies can be provoked) and small limits.
const CASES: Case[] = [
  { desc: 'greeting', script: [], code: 220, rule: /^connection:not-excluded$/ },
  { desc: 'connection refused', script: [], code: 554, rule: /^connection:excluded 127\.0\.0\.66$/, from: '127.0.0.66' },
  { desc: 'AUTH PLAIN before TLS', script: ['EHLO t', 'AUTH PLAIN AGFsaWNlAHg='], code: 538, rule: /^auth:basic-requires-tls$/ },
  { desc: 'unknown AUTH mechanism', script: ['EHLO t', 'TLS', 'AUTH GSSAPI'], code: 504, rule: /^auth:mechanism-not-enabled$/ },
  { desc: 'invalid base64', script: ['EHLO t', 'TLS', 'AUTH PLAIN !!!'], code: 501, rule: /^auth:invalid-base64$/ },
  { desc: 'wrong password', script: ['EHLO t', 'TLS', `AUTH PLAIN ${plainAuth('alice@example.com', 'wrong')}`], code: 535, rule: /^auth:bad-password$/ },
  { desc: 'signed in', script: ['EHLO t', 'TLS', 'AUTH'], code: 235, rule: /^auth:success$/ },
  { desc: 'authentication required', script: ['EHLO t', 'TLS', 'MAIL FROM:<a@example.com>'], code: 530, rule: /^access:anonymous-disabled$/ },
  { desc: 'relay refused', script: ['EHLO t', 'TLS', 'AUTH', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<x@elsewhere.net>'], code: 550, rule: /^relay:not-permitted$/ },
  { desc: 'sender not owned', script: ['EHLO t', 'TLS', 'AUTH', 'MAIL FROM:<ceo@example.com>'], code: 553, rule: /^access:restrict-senders$/ },
  { desc: 'declared size too large', script: ['EHLO t', 'TLS', 'AUTH', 'MAIL FROM:<alice@example.com> SIZE=999999'], code: 552, rule: /^messages:size-limit$/ },
  { desc: 'too many recipients', script: ['EHLO t', 'TLS', 'AUTH', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<a@example.com>', 'RCPT TO:<b@example.com>', 'RCPT TO:<c@example.com>'], code: 452, rule: /^messages:recipient-limit$/ },
  { desc: 'unknown parameter', script: ['EHLO t', 'TLS', 'AUTH', 'MAIL FROM:<alice@example.com> X-Y=1'], code: 555, rule: /^syntax:unknown-mail-parameter$/ },
  { desc: 'bare CR', script: ['EHLO t', 'NOOP\rX'], code: 501, rule: /^protocol:bare-cr$/ },
  { desc: 'unknown command', script: ['EHLO t', 'FROB'], code: 500, rule: /^protocol:unknown-command$/, command: null },
  // A client that goes on with AUTH LOGIN after it was refused sends its password as a "command": never logged.
  { desc: 'a password where a command belongs', script: ['EHLO t', 'AUTH LOGIN', 'c2VjcmV0LXBhc3N3b3Jk'], code: 500, rule: /^protocol:unknown-command$/, command: null },
  { desc: 'command out of sequence', script: ['EHLO t', 'TLS', 'AUTH', 'RCPT TO:<a@example.com>'], code: 503, rule: /^protocol:bad-sequence$/, command: 'RCPT TO:<a@example.com>' },
  { desc: 'DATA out of sequence', script: ['EHLO t', 'TLS', 'AUTH', 'DATA'], code: 503, rule: /^protocol:bad-sequence$/, command: 'DATA' },
  // smtp-server sends no enhanced code to HELO/EHLO: the log must not add one (it said "5.5.0" once).
  { desc: 'EHLO without a hostname', script: ['EHLO'], code: 501, rule: /^protocol:syntax$/, command: 'EHLO' },
  { desc: 'HELO without a hostname', script: ['HELO'], code: 501, rule: /^protocol:syntax$/, command: 'HELO' },
  { desc: 'address syntax', script: ['EHLO t', 'TLS', 'AUTH', 'MAIL FROM:not-an-address'], code: 501, rule: /^protocol:syntax$/, command: 'MAIL FROM:not-an-address' },
  { desc: 'line too long', script: ['EHLO t', `NOOP ${'x'.repeat(600)}`], code: 500, rule: /^protocol:line-too-long$/ },
  { desc: 'queued', script: ['EHLO t', 'TLS', 'AUTH', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<a@example.com>', 'DATA', 'Subject: x\r\n\r\nbody\r\n.'], code: 250, rule: /^data:queued$/ },
];

describe('every reply is logged with its code and rule', () => {
  let t: TestApp;
  const events: RelaydeskEvent[] = [];
  beforeAll(async () => {
    t = await startTestApp({
      users: [{ name: 'alice@example.com', password: PASSWORD }], domains: ['example.com'],
      server: {
        access: { requireSecureChannel: false, restrictSenders: true, relayForAuthenticated: false },
        messages: { maxMessageBytes: 1000, maxRecipientsPerMessage: 2 },
        connectionRules: [{ kind: 'address', address: '127.0.0.66' }],
      },
    });
    t.app.bus.subscribe((e) => events.push(e));
  });
  afterAll(() => t.close());

  async function run(c: Case): Promise<{ reply: string; session: string }> {
    const before = events.length;
    const { client, greeting } = await RawSmtp.connect(t.port, c.from ? { localAddress: c.from } : {});
    let reply = greeting.raw;
    try {
      for (const line of c.script) {
        if (line === 'TLS') {
          reply = (await client.startTls()).raw;
          await client.command('EHLO t');
        }
        else if (line === 'AUTH') reply = (await client.command(`AUTH PLAIN ${plainAuth('alice@example.com', PASSWORD)}`)).raw;
        else reply = (await client.command(line)).raw;
      }
    } finally {
      client.close();
    }
    const connect = events.slice(before).find((e): e is SessionEvent => 'session' in e && e.type === 'connect');
    return { reply: reply.split('\n').at(-1) ?? '', session: connect?.session ?? '' };
  }

  it.each(CASES)('$desc → $code', async (c) => {
    const { reply, session } = await run(c);
    expect(reply.slice(0, 3)).toBe(String(c.code));
    // The event lands on the bus before the reply is written: it is there when the reply arrives.
    const logged = events.filter((e): e is SessionEvent => 'session' in e && e.session === session && 'decision' in e && Boolean(e.decision));
    const match = logged.find((e) => 'decision' in e && e.decision?.code === c.code && c.rule.test(e.decision.rule));
    expect(match, `${c.desc}: ${JSON.stringify(logged.map((e) => 'decision' in e ? [e.type, e.decision?.code, e.decision?.rule] : null))}`).toBeDefined();
    if (c.command !== undefined) expect(match?.type === 'reply' ? match.command : 'not a reply event').toBe(c.command);
    expect(JSON.stringify(logged)).not.toContain('c2VjcmV0');
    // The logged decision is the reply as sent.
    expect(reply.slice(4)).toBe(match && 'decision' in match && match.decision ? `${match.decision.enhanced} ${match.decision.text}`.trim() : '');
  });

  it('names sessions in time order (16 base-32 characters), so the session index of the log grows at its end', async () => {
    const sessions: string[] = [];
    for (let i = 0; i < 4; i++) {
      sessions.push((await run(CASES[0] as Case)).session);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    for (const session of sessions) expect(session).toMatch(/^[0-9a-v]{16}$/);
    expect(new Set(sessions).size).toBe(4);
    expect([...sessions].sort()).toEqual(sessions);
    // The first nine characters are the connection's time in milliseconds.
    expect(Math.abs(parseInt((sessions[0] as string).slice(0, 9), 32) - Date.now())).toBeLessThan(60_000);
  });

  it('exports a library refusal with the command it answered: the verb in W3C cs-method, the whole command in CSV', async () => {
    const api = createAdminHandlers(t.app);
    t.app.eventLog.flush();
    const refusal = events.find((e): e is SessionEvent & { type: 'reply' } => e.type === 'reply' && e.command === 'RCPT TO:<a@example.com>');
    expect(refusal).toBeDefined();
    const filter = { session: refusal?.session ?? '', type: 'reply', limit: 10 };
    const w3c = await w3cRecords(api, filter);
    const record = w3c[0];
    expect(record).toHaveLength(W3C_FIELD_NAMES.length);
    expect(['cs-method', 'cs-uri-query', 'sc-status'].map((name) => w3cField(record, name))).toEqual(['RCPT', 'protocol:bad-sequence', '503']);
    const csv = await csvLines(api, filter);
    expect(csv[1]).toContain(',reply,RCPT TO:<a@example.com>,503,5.5.1,');
  });

  it('counts every refusal by rule, and the store, the export and the screen filter agree row for row', async () => {
    const api = createAdminHandlers(t.app);
    t.app.eventLog.flush();
    const view = { address: '127.0.0', verdict: 'refuse' as const };
    const onScreen = events.filter((e): e is SessionEvent => 'session' in e && matchesLogView(e, view)).length;
    const stored = await api['log.query']({ ...view, limit: 5000 });
    const csv = (await csvLines(api, { ...view, limit: 5000 })).length - 1;
    expect(onScreen).toBeGreaterThan(10);
    expect(stored).toHaveLength(onScreen);
    expect(csv).toBe(onScreen);
    const refusals = (await api['counters.get']({})).perServer[DEFAULT_SERVER_NAME]?.refusals ?? {};
    expect(refusals['protocol:unknown-command']).toBeGreaterThanOrEqual(1);
    expect(refusals['auth:basic-requires-tls']).toBeGreaterThanOrEqual(1);
  });

  it('with logging off, the live view and counters go on; only the history stops', async () => {
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { loggingEnabled: false });
    await t.app.engine.reconcile();
    await new Promise((r) => setTimeout(r, 1100)); // the log reads the setting at most once a second
    const before = events.length;
    const { client } = await RawSmtp.connect(t.port, { localAddress: '127.0.0.77' });
    await client.command('EHLO quiet');
    client.close();
    await eventually(() => events.slice(before).some((e) => 'session' in e && e.address === '127.0.0.77'));
    t.app.eventLog.flush();
    expect(t.app.eventLog.query({ address: '127.0.0.77', limit: 10 })).toEqual([]);
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { loggingEnabled: true });
  });
});

describe('replies of the server\'s state and limits are logged too', () => {
  const logged = (t: TestApp, address: string, code: number) => {
    t.app.eventLog.flush();
    return t.app.eventLog.query({ address, limit: 50 }).find((e) => 'decision' in e && e.decision?.code === code);
  };

  it('paused (421 4.3.2), too many connections (421 4.7.0), STARTTLS first (530 5.7.0), time-out (421)', async () => {
    const t = await startTestApp({ server: { maxConnections: 1, connectionTimeoutSeconds: 5 } });
    try {
      const first = await RawSmtp.connect(t.port, { localAddress: '127.0.0.81' });
      const second = await RawSmtp.connect(t.port, { localAddress: '127.0.0.82' });
      expect(second.greeting.raw).toBe('421 4.7.0 Too many connected clients, try again in a moment');
      expect(logged(t, '127.0.0.82', 421)).toMatchObject({ type: 'reply', decision: { rule: 'connection:server-limit' } });
      await first.client.command('EHLO t');
      expect((await first.client.command('MAIL FROM:<a@example.com>')).raw).toBe('530 5.7.0 Must issue a STARTTLS command first');
      expect(logged(t, '127.0.0.81', 530)).toMatchObject({ type: 'mail', decision: { rule: 'access:require-secure-channel' } });
      // Idle past the connection time-out: smtp-server's own 421, logged with its rule.
      const timeout = await first.client.readReply(8000);
      expect(timeout.raw).toMatch(/^421 4\.4\.2 Timeout - closing connection$/);
      expect(logged(t, '127.0.0.81', 421)).toMatchObject({ type: 'reply', decision: { rule: 'protocol:timeout' } });
      await t.app.engine.setState(DEFAULT_SERVER_NAME, 'paused');
      const paused = await RawSmtp.connect(t.port, { localAddress: '127.0.0.83' });
      expect(paused.greeting.raw).toBe('421 4.3.2 Service paused, try again later');
      expect(logged(t, '127.0.0.83', 421)).toMatchObject({ type: 'connect', decision: { rule: 'server:paused' } });
    } finally {
      await t.close();
    }
  }, 30_000);
});

describe('the patches stay inside Relaydesk', () => {
  it('a stock smtp-server in the same process answers as stock: 421 for an over-long line, and no Relaydesk events', async () => {
    const t = await startTestApp({});
    const stock = new SMTPServer({ authOptional: true, logger: false, maxCommandLength: 510, closeTimeout: 100 });
    stock.on('error', () => undefined);
    await new Promise<void>((resolve) => stock.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (stock.server.address() as net.AddressInfo).port;
      const ids: string[] = [];
      stock.on('connect', (session: { id: string }) => ids.push(session.id));
      const { client, greeting } = await RawSmtp.connect(port);
      expect(greeting.raw).toMatch(/^220 .* ESMTP$/);
      expect((await client.command(`NOOP ${'x'.repeat(600)}`)).raw).toMatch(/^421 /);
      client.close();
      // Its session ids are its own random ones, not Relaydesk's time-ordered ones.
      expect(ids).toHaveLength(1);
      expect(Math.abs(parseInt((ids[0] as string).slice(0, 9), 32) - Date.now())).toBeGreaterThan(60_000);
      const ours = await RawSmtp.connect(t.port);
      expect((await ours.client.command(`NOOP ${'x'.repeat(600)}`)).raw).toBe('500 5.5.2 Line too long');
      ours.client.close();
    } finally {
      await new Promise<void>((resolve) => stock.close(() => resolve()));
      await t.close();
    }
  });
});
