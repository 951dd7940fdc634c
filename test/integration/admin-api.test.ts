// AdminApi behaviour against a running engine: the policy simulator agrees with the wire on a
// table of cases, the self-probe passes a secure server and names each weakness of a weakened
// one, the live log (queries, transcripts, retention, W3C and CSV export), sessions and counters.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminHandlers } from '../../server/admin';
import type { AdminApiHandlers } from '../../server/contract/admin-api';
import type { SessionEvent } from '../../server/contract/events';
import { DEFAULT_ACCESS, DEFAULT_MESSAGES, DEFAULT_SERVER_NAME, type AccessSettings, type AddressRuleInput, type MessageSettings } from '../../server/contract/settings';
import { W3C_FIELDS } from '../../server/log/export';
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';
import { eventually, startTestApp, type TestApp } from '../helpers/test-app';

const PASSWORD = 'correct horse battery';

interface Case {
  desc: string;
  access?: Partial<AccessSettings>;
  messages?: Partial<MessageSettings>;
  connectionRules?: AddressRuleInput[];
  from: string;
  user?: string;
  tls: boolean;
  mailFrom: string;
  rcptTo: string[];
}

const CASES: Case[] = [
  { desc: 'secure default, no TLS', from: '127.0.0.1', tls: false, mailFrom: 'alice@example.com', rcptTo: ['bob@example.com'] },
  { desc: 'secure default, TLS, no user', from: '127.0.0.1', tls: true, mailFrom: 'alice@example.com', rcptTo: ['bob@example.com'] },
  { desc: 'secure default, TLS, user relays', from: '127.0.0.1', user: 'alice', tls: true, mailFrom: 'alice@example.com', rcptTo: ['bob@example.com', 'far@elsewhere.net'] },
  { desc: 'authenticated relay switched off', access: { relayForAuthenticated: false }, from: '127.0.0.1', user: 'alice', tls: true, mailFrom: 'alice@example.com', rcptTo: ['far@elsewhere.net', 'bob@example.com'] },
  { desc: 'restricted sender', access: { restrictSenders: true }, from: '127.0.0.1', user: 'alice', tls: true, mailFrom: 'ceo@example.com', rcptTo: ['bob@example.com'] },
  { desc: 'recipient limit', messages: { maxRecipientsPerMessage: 2 }, from: '127.0.0.1', user: 'alice', tls: true, mailFrom: 'alice@example.com', rcptTo: ['a@example.com', 'b@example.com', 'c@example.com'] },
  { desc: 'basic requires TLS, plaintext attempt', access: { requireSecureChannel: false }, from: '127.0.0.1', user: 'alice', tls: false, mailFrom: 'alice@example.com', rcptTo: ['bob@example.com'] },
  { desc: 'anonymous, excluded client', access: { anonymous: true, requireSecureChannel: false }, connectionRules: [{ kind: 'address', address: '127.0.0.2' }], from: '127.0.0.2', tls: false, mailFrom: 'x@example.com', rcptTo: ['bob@example.com'] },
  { desc: 'anonymous, relay refused, local accepted', access: { anonymous: true, requireSecureChannel: false }, from: '127.0.0.3', tls: false, mailFrom: 'scanner@example.com', rcptTo: ['far@elsewhere.net', 'bob@example.com'] },
];

/** The same session on the wire; returns the reply code of each step the simulator reports. */
async function wire(t: TestApp, c: Case): Promise<number[]> {
  const codes: number[] = [];
  const { client, greeting } = await RawSmtp.connect(t.port, { localAddress: c.from });
  codes.push(greeting.code);
  try {
    if (greeting.code !== 220) return codes;
    codes.push((await client.command('EHLO client')).code);
    if (c.tls) {
      await client.startTls();
      await client.command('EHLO client');
    }
    if (c.user) codes.push((await client.command(`AUTH PLAIN ${plainAuth(c.user, PASSWORD)}`)).code);
    const mail = await client.command(`MAIL FROM:<${c.mailFrom}>`);
    codes.push(mail.code);
    if (mail.code !== 250) return codes;
    for (const rcpt of c.rcptTo) codes.push((await client.command(`RCPT TO:<${rcpt}>`)).code);
    return codes;
  } finally {
    client.close();
  }
}

describe('AdminApi against a running engine', () => {
  let t: TestApp;
  let api: AdminApiHandlers;
  beforeAll(async () => {
    t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'] });
    api = createAdminHandlers(t.app);
  });
  afterAll(() => t.close());

  it.each(CASES)('simulator agrees with the wire: $desc', async (c) => {
    await api['servers.update']({
      name: DEFAULT_SERVER_NAME,
      patch: { access: { ...DEFAULT_ACCESS, ...c.access }, messages: { ...DEFAULT_MESSAGES, ...c.messages }, connectionRules: c.connectionRules ?? [] },
    });
    const simulated = await api['policy.simulate']({ server: DEFAULT_SERVER_NAME, address: c.from, user: c.user, tls: c.tls, mailFrom: c.mailFrom, rcptTo: c.rcptTo });
    const onWire = await wire(t, c);
    expect(simulated.steps.map((s) => s.decision.code)).toEqual(onWire);
    for (const step of simulated.steps) expect(step.decision.rule).toBeTruthy();
  });

  it('queue.list: a page by position with the filter\'s total from the index; a status filter has no total', async () => {
    const before = (await api['queue.list']({ limit: 1 })).total ?? 0;
    const at = (i: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString();
    t.app.store.insertMessages(Array.from({ length: 30 }, (_, i) => ({
      id: `POS${String(i).padStart(3, '0')}`, serverName: DEFAULT_SERVER_NAME, receivedAt: at(i), mailFrom: 'a@example.com', size: 10, clientAddress: '127.0.0.1', authUser: null,
      spoolPath: `/nowhere/POS${i}.eml`, bodyOffset: 0, bodyLength: null, recipients: [{ address: `r${i}@far.test`, domain: 'far.test', route: 'remote' as const }],
    })));
    // Frozen at once (no await in between): delivery never picks them up.
    for (let i = 0; i < 30; i++) t.app.store.setMessageState(`POS${String(i).padStart(3, '0')}`, 'freeze');
    try {
      const all = await api['queue.list']({ limit: 10, offset: before + 20 });
      expect(all.messages.map((m) => m.id)).toEqual(Array.from({ length: 10 }, (_, i) => `POS${String(20 + i).padStart(3, '0')}`));
      expect(all.total).toBe(before + 30);
      expect(all.next).toBeNull();
      const frozen = await api['queue.list']({ state: 'frozen', limit: 5, offset: 0 });
      expect(frozen.total).toBe(frozen.counts.frozen);
      expect(frozen.total).toBeGreaterThanOrEqual(30);
      const byDestination = await api['queue.list']({ destination: 'far.test', limit: 5, offset: 25 });
      expect(byDestination.messages.map((m) => m.id)).toEqual(['POS025', 'POS026', 'POS027', 'POS028', 'POS029']);
      expect(byDestination.total).toBeNull();
      expect((await api['queue.list']({ status: 'queued', limit: 5 })).total).toBeNull();
    } finally {
      for (let i = 0; i < 30; i++) t.app.store.deleteMessage(`POS${String(i).padStart(3, '0')}`);
    }
  });

  it('self-probe: a secure server passes every check', async () => {
    await api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { access: DEFAULT_ACCESS, messages: DEFAULT_MESSAGES, connectionRules: [] } });
    const report = await api['probe.run']({ server: DEFAULT_SERVER_NAME, user: 'alice', password: PASSWORD });
    expect(report.checks.filter((c) => !c.pass)).toEqual([]);
    expect(report.checks.map((c) => c.id)).toEqual([
      'greeting', 'starttls-offered', 'auth-hidden-before-tls', 'plaintext-auth-refused', 'tls-handshake', 'certificate-names',
      'certificate-valid', 'unauthenticated-relay-refused', 'legacy-tls-refused', 'authenticated-relay-allowed',
    ]);
    expect(report.passed).toBe(true);
  });

  it('self-probe: a weakened server fails by name, each with advice', async () => {
    await api['servers.update']({
      name: DEFAULT_SERVER_NAME,
      patch: { access: { ...DEFAULT_ACCESS, anonymous: true, requireSecureChannel: false, basicRequiresTls: false, relayMode: 'all-except', requireStrongEncryption: false, relayForAuthenticated: false } },
    });
    // Old TLS is refused for a server users sign in to, whatever is asked.
    await expect(api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { access: { allowLegacyTls: true } } })).rejects.toThrow(/old TLS \(1\.0\/1\.1\) is only for a server nobody signs in to/);
    const report = await api['probe.run']({ server: DEFAULT_SERVER_NAME });
    const failed = report.checks.filter((c) => !c.pass);
    expect(failed.map((c) => c.id).sort()).toEqual(['auth-hidden-before-tls', 'plaintext-auth-refused', 'unauthenticated-relay-refused']);
    for (const check of failed) expect(check.advice).toBeTruthy();
    expect(report.passed).toBe(false);
    await api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { access: DEFAULT_ACCESS } });
  });

  it('lists live sessions and terminates one with 421 4.3.2', async () => {
    const { client } = await RawSmtp.connect(t.port);
    await client.command('EHLO client');
    await client.startTls();
    await client.command('EHLO client');
    const sessions = await eventually(async () => {
      const list = await api['sessions.list']({});
      return list.find((s) => s.tlsProtocol === 'TLSv1.3') ? list : null;
    });
    const session = sessions.find((s) => s.tlsProtocol === 'TLSv1.3');
    expect(session).toMatchObject({ server: DEFAULT_SERVER_NAME, address: '127.0.0.1', user: null });
    expect(session?.bytesIn).toBeGreaterThan(0);
    expect(await api['sessions.terminate']({ server: DEFAULT_SERVER_NAME, id: session?.id as string })).toEqual({ terminated: true });
    expect((await client.readReply()).raw).toBe('421 4.3.2 Session terminated by the administrator');
    expect(await client.closed()).toBe(true);
  });

  it('queries the log, keeps AUTH payloads out of transcripts, and counts', async () => {
    const { client } = await RawSmtp.connect(t.port, { localAddress: '127.0.0.9' });
    await client.command('EHLO transcript.test');
    await client.startTls();
    await client.command('EHLO transcript.test');
    await client.command(`AUTH PLAIN ${plainAuth('alice', PASSWORD)}`);
    await client.command('MAIL FROM:<alice@example.com>');
    await client.command('RCPT TO:<bob@example.com>');
    await client.command('QUIT');
    const closed = await eventually(async () => (await api['log.query']({ address: '127.0.0.9', type: 'close', limit: 5 }))[0]);
    const transcript = await api['log.transcript']({ session: closed.session });
    expect(transcript.join('\n')).toMatch(/C: EHLO transcript\.test[\s\S]*C: STARTTLS[\s\S]*C: AUTH PLAIN \*\*\*[\s\S]*S: 235[\s\S]*C: RCPT TO:<bob@example\.com>\n.* S: 250 2\.1\.5 Accepted {3}\[relay:accepted-domain example\.com\][\s\S]*closed after/);
    expect(transcript.join('\n')).not.toContain(PASSWORD);
    const byUser = await api['log.query']({ user: 'alice', type: 'rcpt', limit: 50 });
    expect(byUser.length).toBeGreaterThan(0);
    const refused = await api['log.query']({ verdict: 'refuse', limit: 500 });
    expect(refused.every((e) => 'decision' in e && e.decision?.verdict === 'refuse')).toBe(true);
    expect((await api['log.query']({ text: 'transcript.test', limit: 10 })).length).toBeGreaterThan(0);
    const counters = await api['counters.get']({});
    expect(counters.perServer[DEFAULT_SERVER_NAME]?.sessions).toBeGreaterThan(5);
    expect(counters.perMinute).toHaveLength(60);
  });

  it('exports W3C extended and CSV logs that parse back to the sessions', async () => {
    const w3c = await api['log.export']({ format: 'w3c', filter: { address: '127.0.0.9', limit: 100 } });
    const lines = w3c.trim().split('\r\n');
    expect(lines[3]).toBe(`#Fields: ${W3C_FIELDS}`);
    const records = lines.filter((l) => !l.startsWith('#')).map((l) => l.split(' '));
    const fields = W3C_FIELDS.split(' ');
    for (const record of records) expect(record).toHaveLength(fields.length);
    const column = (name: string) => records.map((r) => r[fields.indexOf(name)]);
    expect(column('cs-method')).toEqual(['CONNECT', 'EHLO', 'STARTTLS', 'EHLO', 'AUTH', 'MAIL', 'RCPT', 'QUIT']);
    expect(column('sc-status')).toEqual(['220', '250', '220', '250', '235', '250', '250', '-']);
    // Real bytes each way (the connection's counters): the lines add up to what the connection carried.
    const closed = (await api['log.query']({ address: '127.0.0.9', type: 'close', limit: 1 }))[0];
    const sum = (name: string) => column(name).reduce((total, b) => total + Number(b), 0);
    expect(closed?.type === 'close' && closed.bytesIn > 500).toBe(true);
    expect(sum('cs-bytes')).toBe(closed?.type === 'close' ? closed.bytesIn : -1);
    expect(sum('sc-bytes')).toBe(closed?.type === 'close' ? closed.bytesOut : -1);
    expect(new Set(column('s-port')).size).toBe(1);
    expect(column('s-port')[0]).toBe(String(t.port));
    expect(new Set(column('c-ip'))).toEqual(new Set(['127.0.0.9']));
    expect(column('cs-username').slice(5)).toEqual(['alice', 'alice', 'alice']);
    const csv = await api['log.export']({ format: 'csv', filter: { address: '127.0.0.9', limit: 100 } });
    expect(csv.split('\r\n')[0]).toBe('at,server,session,address,user,device,type,command,code,enhanced,text,rule,bytes_in,bytes_out');
    expect(csv.trim().split('\r\n')).toHaveLength(records.length + 1);
  });

  it('never sends the smart host password or client secret to the console, and keeps them when the console sends its copy back', async () => {
    const smartHost = { host: 'smtp.office365.com', port: 587, security: 'starttls' as const, verifyCertificate: true, authentication: 'basic' as const, user: 'scanner@contoso.example', password: 'stored-smart-host-password', trustedCertificate: null, oauth2: null };
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { smartHost, holdRemote: true } });
    const shown = await api['servers.get']({ name: DEFAULT_SERVER_NAME });
    expect(shown.delivery.smartHost?.password).toBeNull();
    expect(JSON.stringify(await api['servers.list']({}))).not.toContain('stored-smart-host-password');
    // The Properties dialog applies the whole draft, password null: the stored one stays.
    const applied = await api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { delivery: { ...shown.delivery, retryMinutes: { first: 5, second: 30, third: 60, subsequent: 240 } } } });
    expect(JSON.stringify(applied)).not.toContain('stored-smart-host-password');
    expect(t.app.store.getServer(DEFAULT_SERVER_NAME).delivery.smartHost?.password).toBe('stored-smart-host-password');
    // A new password typed in replaces it; another account does not inherit the old one.
    await api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { delivery: { ...shown.delivery, smartHost: { ...smartHost, password: 'new-password-1' } } } });
    expect(t.app.store.getServer(DEFAULT_SERVER_NAME).delivery.smartHost?.password).toBe('new-password-1');
    // Anything that decides where the password goes changed, and no password typed: refused, nothing changes.
    const moves: Array<[string, object]> = [
      ['user', { user: 'other@contoso.example' }], ['host', { host: 'smtp.attacker.example' }], ['port', { port: 2526 }],
      ['security', { security: 'none' }], ['certificate checking', { verifyCertificate: false }], ['trusted certificate', { trustedCertificate: 'PEM' }],
    ];
    for (const [field, change] of moves) {
      await expect(api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { delivery: { ...shown.delivery, smartHost: { ...smartHost, ...change, password: null } } } }))
        .rejects.toThrow(new RegExp(`smart host's ${field} changed: enter the password again`));
      expect(t.app.store.getServer(DEFAULT_SERVER_NAME).delivery.smartHost).toMatchObject({ host: 'smtp.office365.com', port: 587, security: 'starttls', password: 'new-password-1' });
    }
    // With the password typed again, the change goes through.
    await api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { delivery: { ...shown.delivery, smartHost: { ...smartHost, port: 2526, password: 'typed-again-1' } } } });
    expect(t.app.store.getServer(DEFAULT_SERVER_NAME).delivery.smartHost).toMatchObject({ port: 2526, password: 'typed-again-1' });
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { smartHost: null } });
  });

  it('keeps the OAuth2 client secret only for the same provider, tenant, endpoints and client', async () => {
    const oauth2 = { provider: 'custom' as const, tenant: 'organizations', clientId: 'relay-app', clientSecret: 'stored-client-secret', flow: 'app' as const,
      authorizationEndpoint: null, tokenEndpoint: 'http://127.0.0.1:9/token', deviceEndpoint: null, revocationEndpoint: null, scope: 'smtp' };
    const smartHost = { host: 'smtp.example', port: 587, security: 'starttls' as const, verifyCertificate: true, authentication: 'oauth2' as const, user: 'relay@example.com', password: null, trustedCertificate: null, oauth2 };
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { smartHost, holdRemote: true } });
    const shown = await api['servers.get']({ name: DEFAULT_SERVER_NAME });
    expect(shown.delivery.smartHost?.oauth2?.clientSecret).toBeNull();
    await api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { delivery: shown.delivery } });
    expect(t.app.store.getServer(DEFAULT_SERVER_NAME).delivery.smartHost?.oauth2?.clientSecret).toBe('stored-client-secret');
    for (const [field, change] of [['token endpoint', { tokenEndpoint: 'http://127.0.0.1:10/token' }], ['client ID', { clientId: 'other-app' }], ['tenant', { tenant: 'contoso.example' }]] as Array<[string, object]>) {
      await expect(api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { delivery: { ...shown.delivery, smartHost: { ...smartHost, oauth2: { ...oauth2, ...change, clientSecret: null } } } } }))
        .rejects.toThrow(new RegExp(`OAuth2 ${field} changed: enter the client secret again`));
    }
    expect(t.app.store.getServer(DEFAULT_SERVER_NAME).delivery.smartHost?.oauth2?.tokenEndpoint).toBe('http://127.0.0.1:9/token');
    // Sealed at rest: neither secret appears in the SQLite file.
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { smartHost: { ...smartHost, authentication: 'basic', password: 'sealed-password-1', oauth2 } } });
    t.app.store.checkpoint();
    const file = fs.readFileSync(path.join(t.dir, 'relaydesk.db'), 'latin1');
    expect(file).not.toContain('stored-client-secret');
    expect(file).not.toContain('sealed-password-1');
    expect(t.app.store.getServer(DEFAULT_SERVER_NAME).delivery.smartHost).toMatchObject({ password: 'sealed-password-1', oauth2: { clientSecret: 'stored-client-secret' } });
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { smartHost: null } });
  });

  it('applies retention by age and by count', async () => {
    const old: SessionEvent = { type: 'close', at: '2001-01-01T00:00:00.000Z', server: 'x', session: 'old', address: '192.0.2.1', user: null, bytesIn: 0, bytesOut: 0, durationMs: 1 };
    t.app.store.appendEvents([old]);
    await api['log.setSettings']({ retentionDays: 30, maxEvents: 1_000_000 });
    expect(await api['log.query']({ session: 'old', limit: 5 })).toEqual([]);
    const many: SessionEvent[] = Array.from({ length: 1500 }, (_, i) => ({ ...old, at: new Date().toISOString(), session: `bulk-${i}` }));
    t.app.store.appendEvents(many);
    await api['log.setSettings']({ retentionDays: 30, maxEvents: 1000 });
    expect(t.app.store.countEvents()).toBe(1000);
    expect((await api['log.query']({ session: 'bulk-1499', limit: 1 })).length).toBe(1);
    expect(await api['log.getSettings']({})).toEqual({ retentionDays: 30, maxEvents: 1000, queueHistoryDays: 30, keepDeliveredDays: 0, minFreeMiB: 1024, minFreePercent: 5 });
  });
});
