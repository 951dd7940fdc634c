// Running for months: delivered bodies leave the spool (or are kept for N days), queue records
// are pruned after their history period, the disk-space watch refuses new mail at MAIL FROM and
// resumes by itself; and the protocol gaps independent tools found: unknown parameters (555),
// a bare CR (501), sender-specified routing (550) and the greeting without the product name.
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminHandlers } from '../../server/admin';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';
import { eventually, startTestApp, type TestApp } from '../helpers/test-app';

const PASSWORD = 'correct horse battery';
const DAY_MS = 86_400_000;
const open: TestApp[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

function send(t: TestApp, to: string, subject: string) {
  return nodemailer.createTransport({ host: '127.0.0.1', port: t.port, secure: false, requireTLS: true, tls: { ca: t.caPem, servername: 'localhost' }, auth: { user: 'alice', pass: PASSWORD } })
    .sendMail({ from: 'alice@example.com', to, subject, text: 'scan attached' }).then((info) => info.response.split(' ').pop() as string);
}

async function session(t: TestApp, options: { anonymous?: boolean; from?: string } = {}): Promise<RawSmtp> {
  const { client } = await RawSmtp.connect(t.port, options.from ? { localAddress: options.from } : {});
  await client.command('EHLO client.test');
  await client.startTls({ ca: t.caPem, servername: 'localhost' });
  await client.command('EHLO client.test');
  if (!options.anonymous) expect((await client.command(`AUTH PLAIN ${plainAuth('alice', PASSWORD)}`)).code).toBe(235);
  return client;
}

describe('the spool after delivery', () => {
  it('removes a delivered body at once, keeps the record as history, and prunes it after the history period', async () => {
    let clock = Date.now();
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'], now: () => new Date(clock) });
    open.push(t);
    const id = await send(t, 'bob@example.com', 'Scan 1');
    const spoolFile = (await eventually(() => t.app.store.getMessage(id))).spoolPath;
    expect(fs.existsSync(spoolFile)).toBe(true);
    // Its bytes are zeroed at once; the file (a segment groups are appended to) goes once the
    // spool lets it go, a couple of seconds after the last group.
    const bodyGone = () => !fs.existsSync(spoolFile) || !fs.readFileSync(spoolFile, 'latin1').includes('Scan 1');
    await eventually(() => t.app.store.getMessage(id)?.body === 'removed' && bodyGone(), 1500);
    await eventually(() => !fs.existsSync(spoolFile), 10_000);
    // Nothing in the queue folder holds a message (empty spare batch files may wait there).
    const queueDir = path.join(t.dir, 'spool', 'queue');
    expect(fs.readdirSync(queueDir).filter((f) => fs.statSync(path.join(queueDir, f)).size > 0)).toEqual([]);
    const record = t.app.store.getMessage(id);
    expect(record).toMatchObject({ state: 'done', body: 'removed', mailFrom: 'alice@example.com' });
    expect(record?.recipients[0]).toMatchObject({ address: 'bob@example.com', state: 'delivered' });
    const api = createAdminHandlers(t.app);
    expect((await api['queue.show']({ id })).headers).toMatch(/body was removed/);
    await expect(api['queue.source']({ id })).rejects.toThrow(/delivered and its body removed/);
    // 29 days later the record is still history; after 31 it is pruned.
    clock += 29 * DAY_MS;
    await t.app.sweepRetention();
    expect(t.app.store.getMessage(id)).not.toBeNull();
    clock += 2 * DAY_MS;
    await t.app.sweepRetention();
    expect(t.app.store.getMessage(id)).toBeNull();
  });

  it('keeps a copy of delivered messages for N days when asked, readable from the Queues page, then removes it', async () => {
    let clock = Date.now();
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'], now: () => new Date(clock) });
    open.push(t);
    const api = createAdminHandlers(t.app);
    expect(await api['log.setSettings']({ keepDeliveredDays: 7, queueHistoryDays: 30 })).toMatchObject({ keepDeliveredDays: 7, queueHistoryDays: 30, retentionDays: 30 });
    const id = await send(t, 'bob@example.com', 'Scan kept');
    await eventually(() => t.app.store.getMessage(id)?.body === 'kept');
    const kept = path.join(t.dir, 'spool', 'kept', `${id}.eml`);
    expect(fs.existsSync(kept)).toBe(true);
    expect(fs.existsSync(path.join(t.dir, 'spool', 'queue', `${id}.eml`))).toBe(false);
    const source = await api['queue.source']({ id });
    expect(source).toMatchObject({ body: 'kept', truncated: false });
    expect(source.text).toMatch(/^Received: [\s\S]*Subject: Scan kept/);
    expect(source.text).not.toContain('X-Relaydesk-Envelope');
    clock += 8 * DAY_MS;
    await t.app.sweepRetention();
    expect(fs.existsSync(kept)).toBe(false);
    expect(t.app.store.getMessage(id)).toMatchObject({ body: 'removed', state: 'done' });
  });

  it('finishes at start what a crash interrupted: a done message whose body is still in the spool', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'] });
    const id = await send(t, 'far@elsewhere.net', 'Held');
    const file = (await eventually(() => t.app.store.getMessage(id))).spoolPath;
    // As if the process died right after recording the outcome, before the body left the spool.
    t.app.store.recordDelivery(id, ['far@elsewhere.net'], { state: 'delivered', reply: '250 ok' });
    expect(fs.existsSync(file)).toBe(true);
    await t.app.stop(50);
    const { App } = await import('../../server/app');
    const again = new App({ dataDir: t.dir, firstStartPort: 0 });
    const recovered = await again.start();
    try {
      expect(recovered.reindexed).toBe(0);
      expect(fs.existsSync(file)).toBe(false);
      expect(again.store.getMessage(id)).toMatchObject({ state: 'done', body: 'removed' });
    } finally {
      await again.stop(50);
      fs.rmSync(t.dir, { recursive: true, force: true });
    }
  });
});

describe('disk-space watch', () => {
  it('refuses new mail at MAIL FROM with 452 4.3.1 below the floor, warns, and resumes by itself', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'] });
    open.push(t);
    const api = createAdminHandlers(t.app);
    const client = await session(t);
    expect((await client.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    await client.command('RSET');
    // A floor above what this disk has free (100 % of it, or 10 TB): space is "low".
    await api['log.setSettings']({ minFreeMiB: 10_000_000, minFreePercent: 100 });
    await eventually(() => t.app.diskWatch.low);
    expect((await client.command('MAIL FROM:<alice@example.com>')).raw).toBe('452 4.3.1 Insufficient system storage, try again later');
    const warnings = await api['status.warnings']({});
    expect(warnings.map((w) => w.id)).toEqual(['disk-low']);
    expect(warnings[0]?.message).toMatch(/Disk space low in .*new mail is refused with 452 4\.3\.1/);
    const refusal = t.app.eventLog.query({ type: 'mail', limit: 5 })[0];
    expect(refusal?.type === 'mail' ? refusal.decision.rule : null).toBe('storage:disk-space-low');
    // Space "comes back" (the floor goes back to its default): accepted again, the warning is gone.
    await api['log.setSettings']({ minFreeMiB: 1024, minFreePercent: 5 });
    await eventually(() => !t.app.diskWatch.low);
    expect((await client.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect(await api['status.warnings']({})).toEqual([]);
    client.close();
  });
});

describe('protocol gaps', () => {
  it('answers 555 5.5.4 to unknown MAIL/RCPT parameters and 501 to a bare CR inside a command', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'] });
    open.push(t);
    const client = await session(t);
    expect((await client.command('MAIL FROM:<alice@example.com> X-INJECT=1')).raw).toBe('555 5.5.4 MAIL FROM parameter X-INJECT not recognized');
    expect((await client.command('MAIL FROM:<alice@example.com>\rX-INJECT=1')).raw).toBe('501 5.5.2 Syntax error: bare CR in command line');
    expect((await client.command('MAIL FROM:<alice@example.com> SIZE=100 BODY=8BITMIME')).code).toBe(250);
    expect((await client.command('RCPT TO:<bob@example.com> NOTIFY=NEVER')).raw).toBe('555 5.5.4 RCPT TO parameter NOTIFY not recognized');
    expect((await client.command('RCPT TO:<bob@example.com>')).code).toBe(250);
    client.close();
  });

  it('refuses sender-specified routing (%, !) from clients that may not relay, as Postfix does', async () => {
    const t = await startTestApp({
      users: [{ name: 'alice', password: PASSWORD }], domains: ['accepted.test'],
      server: { access: { anonymous: true } },
    });
    open.push(t);
    const anonymous = await session(t, { anonymous: true });
    expect((await anonymous.command('MAIL FROM:<scanner@accepted.test>')).code).toBe(250);
    expect((await anonymous.command('RCPT TO:<relaytest%relay-test.example@accepted.test>')).raw)
      .toBe('550 5.7.1 Unable to relay for <relaytest%relay-test.example@accepted.test>: sender-specified routing is not accepted');
    expect((await anonymous.command('RCPT TO:<relay-test.example!relaytest@accepted.test>')).code).toBe(550);
    expect((await anonymous.command('RCPT TO:<office@accepted.test>')).code).toBe(250);
    anonymous.close();
    // A signed-in user may relay anyway, so the same address is theirs to use.
    const user = await session(t);
    expect((await user.command('MAIL FROM:<alice@accepted.test>')).code).toBe(250);
    expect((await user.command('RCPT TO:<relaytest%relay-test.example@accepted.test>')).code).toBe(250);
    user.close();
  });

  it('greets with "<FQDN> ESMTP" by default and with the configured banner text when set', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }] });
    open.push(t);
    const fqdn = t.app.store.getServer(DEFAULT_SERVER_NAME).fqdn;
    expect((await RawSmtp.connect(t.port)).greeting.raw).toBe(`220 ${fqdn} ESMTP`);
    const api = createAdminHandlers(t.app);
    await api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { banner: 'Relaydesk' } });
    const again = await RawSmtp.connect(t.port);
    expect(again.greeting.raw).toBe(`220 ${fqdn} ESMTP Relaydesk`);
    again.client.close();
    await expect(api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { banner: 'two\r\nlines' } })).rejects.toThrow(/banner: only printable ASCII/);
  });
});
