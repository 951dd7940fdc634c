// The whole submission path with a real client (nodemailer): STARTTLS, AUTH, DATA streamed to
// the spool, the Received header, drop-folder delivery for accepted domains, and what survives
// a restart (settings and queued messages). Also the failed-login throttle.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../server/app';
import type { RelaydeskEvent } from '../../server/contract/events';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { plainAuth } from '../../server/smtp/line-client';
import { readBatchRecords } from '../../server/spool/spool-format';
import { readSpooled } from '../../server/spool/spooled-body';
import type { QueueEntry } from '../../server/store/store';
import { plainLogin } from '../helpers/smtp-session';
import { eventually, startTestApp, type TestApp, tempDir, wrap } from '../helpers/test-app';

const PASSWORD = 'correct horse battery';
const open: TestApp[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

function transport(t: TestApp, user = 'alice', pass = PASSWORD) {
  return nodemailer.createTransport({
    host: '127.0.0.1', port: t.port, secure: false, requireTLS: true,
    tls: { ca: t.caPem, servername: 'localhost' }, auth: { user, pass },
  });
}

describe('submission', () => {
  it('delivers a message for an accepted domain to the drop folder with a Received header', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'] });
    open.push(t);
    const events: RelaydeskEvent[] = [];
    t.app.bus.subscribe((e) => events.push(e));
    const info = await transport(t).sendMail({ from: 'alice@example.com', to: 'bob@example.com', bcc: 'x@elsewhere.net', subject: 'Scan 42', text: 'page 1' });
    expect(info.response).toMatch(/^250 2\.6\.0 Queued as /);
    const queueId = info.response.split(' ').pop() as string;
    const dropFile = path.join(t.dir, 'drop', `${queueId}.eml`);
    await eventually(() => fs.existsSync(dropFile));
    const dropped = fs.readFileSync(dropFile, 'utf8');
    expect(dropped).toMatch(/^x-sender: alice@example.com\r\nx-receiver: bob@example.com\r\nReceived: from \[127\.0\.0\.1\] \(unknown \[127\.0\.0\.1\]\)\r\n\tby /);
    expect(dropped).toMatch(/with ESMTPSA id [A-Z0-9-]+\r\n\t\(using TLSv1\.3 with cipher /);
    expect(dropped).toContain('Subject: Scan 42');
    // The remote recipient stays queued (outbound delivery is another component), visibly.
    const entry = t.app.store.getMessage(queueId);
    expect(entry?.recipients.map((r) => [r.address, r.route, r.state])).toEqual([['bob@example.com', 'local', 'delivered'], ['x@elsewhere.net', 'remote', 'queued']]);
    expect(entry?.state).toBe('queued');
    // The live event stream saw each step, and never the password.
    const types = events.filter((e) => 'session' in e).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['connect', 'starttls', 'auth', 'mail', 'rcpt', 'data']));
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
    expect(JSON.stringify(events)).not.toContain(plainAuth('alice', PASSWORD));
  });

  it('spools small messages in one write and large ones as a stream, byte for byte', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'] });
    open.push(t);
    // Either side of the group-commit limit (64 KiB): a record in a group's batch file, then the
    // one record of a batch file of its own, streamed (3 MiB never held whole).
    // Lines with a leading dot are dot-stuffed on the wire.
    for (const kib of [16, 3 * 1024]) {
      const lines = Array.from({ length: Math.ceil((kib * 1024) / 76) }, (_, i) => `${i % 7 === 0 ? '.' : ''}line ${String(i).padStart(8, '0')} ${'abcdefghij'.repeat(6)}`);
      const raw = `From: alice@example.com\r\nTo: bob@elsewhere.net\r\nSubject: Size ${kib} KiB\r\n\r\n${lines.join('\r\n')}\r\n`;
      // A held remote recipient: the body stays in the spool (a delivered one would leave it at once).
      const info = await transport(t).sendMail({ envelope: { from: 'alice@example.com', to: ['bob@elsewhere.net'] }, raw });
      // Durable at the 250; indexed a moment later (commits are spaced while mail flows).
      const entry = await eventually(() => t.app.store.getMessage(info.response.split(' ').pop() as string));
      expect(path.extname(entry.spoolPath)).toBe('.batch');
      const file = fs.readFileSync(entry.spoolPath, 'latin1');
      if (kib >= 64) expect(readBatchRecords(entry.spoolPath).map((r) => r.id)).toEqual([entry.id]);
      const spooled = (await readSpooled(entry)).toString('latin1');
      // The envelope line, our Received header, then exactly what the client sent.
      expect(entry.size).toBe(Buffer.byteLength(raw));
      expect(file.slice(0, entry.bodyOffset)).toMatch(/^X-Relaydesk-Envelope: [A-Za-z0-9+/=]+\r\n$/);
      if (kib >= 64) expect(file.length).toBe(entry.bodyOffset + (entry.bodyLength as number));
      expect(spooled.slice(0, spooled.length - raw.length)).toMatch(/^Received: [^]+\r\n$/);
      expect(spooled.slice(spooled.length - raw.length) === raw).toBe(true);
    }
  });

  it('keeps settings and queued messages across a restart', async () => {
    const dir = tempDir();
    const first = await startTestApp({ dataDir: dir, users: [{ name: 'alice', password: PASSWORD }], server: { messages: { maxRecipientsPerMessage: 7 } } });
    const info = await transport(first).sendMail({ from: 'alice@example.com', to: 'far@elsewhere.net', subject: 'kept', text: 'x' });
    const queueId = info.response.split(' ').pop() as string;
    await first.app.stop(100);

    const app = new App({ dataDir: dir, firstStartPort: 0 });
    expect(await app.ensureDefaults()).toBe(false);
    await app.start();
    const second = wrap(app, dir);
    open.push(second);
    expect(app.store.getServer(DEFAULT_SERVER_NAME).messages.maxRecipientsPerMessage).toBe(7);
    const entry = app.store.getMessage(queueId);
    expect(entry?.state).toBe('queued');
    expect((await readSpooled(entry as QueueEntry)).toString()).toContain('Subject: kept');
    // The same user still logs in on the restarted server.
    await transport(second).sendMail({ from: 'alice@example.com', to: 'far@elsewhere.net', subject: 'again', text: 'y' });
  });

  it('after a crash: drops what was never acknowledged, re-indexes what was', async () => {
    const dir = tempDir();
    const t = await startTestApp({ dataDir: dir, users: [{ name: 'alice', password: PASSWORD }] });
    const info = await transport(t).sendMail({ from: 'alice@example.com', to: 'far@elsewhere.net', subject: 'acknowledged', text: 'x' });
    const queueId = info.response.split(' ').pop() as string;
    const before = await eventually(() => t.app.store.getMessage(queueId));
    await t.app.stop(100);
    // A crash mid-DATA leaves a file in tmp/; a crash after the 250 but before the index commit
    // leaves a queue file without its row (simulated by deleting the row).
    fs.writeFileSync(path.join(dir, 'spool', 'tmp', 'HALF-WRITTEN.eml'), 'Subject: never acknowledged\r\n');
    const db = new Database(path.join(dir, 'relaydesk.db'));
    db.prepare('DELETE FROM messages WHERE id = ?').run(queueId);
    db.close();

    const app = new App({ dataDir: dir, firstStartPort: 0 });
    const recovery = await app.start();
    open.push(wrap(app, dir));
    expect(recovery).toEqual({ orphansRemoved: 1, reindexed: 1, unreadable: [] });
    expect(fs.readdirSync(path.join(dir, 'spool', 'tmp'))).toEqual([]);
    const entry = app.store.getMessage(queueId);
    expect(entry).toMatchObject({ state: 'queued', mailFrom: 'alice@example.com', recipients: [expect.objectContaining({ address: 'far@elsewhere.net', state: 'queued' })] });
    expect(entry).toMatchObject({ spoolPath: before.spoolPath, bodyOffset: before.bodyOffset, bodyLength: before.bodyLength, size: before.size });
    const body = (await readSpooled(entry as QueueEntry)).toString();
    expect(body).toMatch(/^Received: from /);
    expect(body).toContain('Subject: acknowledged');
  });
});

describe('failed-login throttle', () => {
  it('slows and then blocks an address and a user, while others still log in', async () => {
    const t = await startTestApp({
      users: [{ name: 'alice', password: PASSWORD }, { name: 'bob', password: PASSWORD }, { name: 'carol', password: PASSWORD }],
      server: { access: { requireSecureChannel: false, basicRequiresTls: false, lockout: { slowAfter: 2, blockAfter: 4, windowMinutes: 15, blockMinutes: 1 } } },
      throttle: { delayStepMs: 20, maxDelayMs: 100 },
    });
    open.push(t);
    const login = (from: string, user: string, password: string) => plainLogin(t.port, from, user, password);
    // Alice's usual address: she signed in from it before the attack.
    expect(await login('127.0.0.12', 'alice', PASSWORD)).toBe('235 2.7.0 Authentication successful');
    // Brute force from one address against alice: 4 failures, then the address is blocked.
    for (let i = 0; i < 4; i++) expect(await login('127.0.0.10', 'alice', `guess-${i}`)).toBe('535 5.7.8 Authentication credentials invalid');
    expect(await login('127.0.0.10', 'bob', PASSWORD)).toBe('421 4.7.0 Too many failed logins from your address, try again later');
    // The user under attack is blocked at addresses she never signed in from, not at her usual one;
    // other users from other addresses are not affected.
    expect(await login('127.0.0.11', 'alice', PASSWORD)).toBe('454 4.7.0 Too many failed logins for this user, try again later');
    expect(await login('127.0.0.12', 'alice', PASSWORD)).toBe('235 2.7.0 Authentication successful');
    expect(await login('127.0.0.11', 'bob', PASSWORD)).toBe('235 2.7.0 Authentication successful');
    // Spread over many addresses, the attack on carol is still counted per user.
    for (let i = 0; i < 4; i++) expect(await login(`127.0.1.${i + 1}`, 'carol', 'nope-nope')).toBe('535 5.7.8 Authentication credentials invalid');
    expect(await login('127.0.1.99', 'carol', PASSWORD)).toMatch(/^454 4\.7\.0 /);
    expect(await login('127.0.1.99', 'bob', PASSWORD)).toBe('235 2.7.0 Authentication successful');
    // Guessing carol's password from one address blocks only that pair: carol elsewhere is judged by the other counts.
    const events = t.app.eventLog.query({ type: 'auth', limit: 200 });
    const rules = new Set(events.flatMap((e) => (e.type === 'auth' && e.outcome === 'blocked' && e.decision ? [e.decision.rule] : [])));
    expect(rules).toEqual(new Set(['auth:address-blocked', 'auth:user-blocked-at-unknown-addresses']));
  });

  it('behind one shared address (NAT), blocks the user who is guessed, not the colleagues who sign in', async () => {
    const t = await startTestApp({
      users: [{ name: 'dave', password: PASSWORD }, { name: 'erin', password: PASSWORD }],
      server: { access: { requireSecureChannel: false, basicRequiresTls: false, lockout: { slowAfter: 2, blockAfter: 3, windowMinutes: 15, blockMinutes: 1 } } },
      throttle: { delayStepMs: 1, maxDelayMs: 1 },
    });
    open.push(t);
    const login = (from: string, user: string, password: string) => plainLogin(t.port, from, user, password);
    for (let i = 0; i < 2; i++) expect(await login('127.0.0.20', 'dave', `guess-${i}`)).toMatch(/^535 /);
    expect(await login('127.0.0.20', 'erin', PASSWORD)).toBe('235 2.7.0 Authentication successful'); // clears the address's count
    expect(await login('127.0.0.20', 'dave', 'guess-2')).toMatch(/^535 /);
    // dave has 3 failures at .20: blocked there; erin at the same address still signs in.
    expect(await login('127.0.0.20', 'dave', PASSWORD)).toBe('454 4.7.0 Too many failed logins for this user, try again later');
    expect(await login('127.0.0.20', 'erin', PASSWORD)).toBe('235 2.7.0 Authentication successful');
    const blocked = t.app.eventLog.query({ type: 'auth', limit: 50 }).find((e) => e.type === 'auth' && e.outcome === 'blocked');
    expect(blocked?.type === 'auth' ? blocked.decision?.rule : null).toBe('auth:user-blocked-at-address');
  });
});
