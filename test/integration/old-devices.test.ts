// What old devices send, accepted as IIS and Postfix accepted it: HELO (logged like EHLO; it was
// not logged at all), a device name of several words ("EHLO Canon MF4800"), addresses without
// angle brackets ("MAIL FROM:scanner@example.com"). A failed greeting changes nothing, and the
// Received header says what happened (RFC 3848: "with SMTP" after HELO). Raw sockets.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelaydeskEvent, SessionEvent } from '../../server/contract/events';
import { formatEventLine } from '../../server/contract/log-view';
import { RawSmtp } from '../../server/smtp/line-client';
import { droppedMessages, eventually, startTestApp, type TestApp } from '../helpers/test-app';

type Greeting = Extract<SessionEvent, { type: 'ehlo' }>;

describe('old devices: greetings and addresses', () => {
  let t: TestApp;
  const events: RelaydeskEvent[] = [];
  beforeAll(async () => {
    // Anonymous plain-text submission to a local domain, as an old scanner does on a trusted network.
    t = await startTestApp({ domains: ['example.com'], server: { access: { anonymous: true, requireSecureChannel: false } } });
    t.app.bus.subscribe((e) => events.push(e));
  });
  afterAll(() => t.close());

  /** Greet with `lines`, then send one message whose subject is `subject`; returns the replies and the session's greetings. */
  async function session(lines: string[], subject: string): Promise<{ replies: string[]; greetings: Greeting[]; received: string }> {
    const from = events.length;
    const { client } = await RawSmtp.connect(t.port);
    const replies: string[] = [];
    for (const line of lines) replies.push((await client.command(line)).raw);
    expect((await client.command('MAIL FROM:<scanner@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<office@example.com>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    expect((await client.command(`Subject: ${subject}\r\n\r\nscan attached\r\n.`)).code).toBe(250);
    await client.command('QUIT');
    client.close();
    const message = await eventually(() => droppedMessages(path.join(t.dir, 'drop')).find((m) => m.includes(`Subject: ${subject}`)));
    const greetings = events.slice(from).filter((e): e is Greeting => e.type === 'ehlo');
    return { replies, greetings, received: /^Received: [^]*?;/m.exec(message)?.[0] ?? '' };
  }

  it('HELO is logged as HELO, and its mail is received "with SMTP"', async () => {
    const { replies, greetings, received } = await session(['HELO printer.local'], 'helo scan');
    expect(replies[0]).toMatch(/^250 /);
    expect(greetings).toHaveLength(1);
    expect(greetings[0]).toMatchObject({ hostname: 'printer.local', helo: true });
    expect(formatEventLine(greetings[0] as Greeting)).toContain('HELO printer.local');
    expect(received).toMatch(/^Received: from printer\.local \(unknown \[127\.0\.0\.1\]\)\r\n\tby .* with SMTP id /);
  });

  it('a name of several words is accepted, logged and written into the Received header as given', async () => {
    const { replies, greetings, received } = await session(['EHLO Canon   MF4800 Series'], 'spaced scan');
    expect(replies[0]).toMatch(/^250-/);
    expect(replies[0]).toContain('PIPELINING');
    expect(greetings.map((g) => [g.hostname, g.helo ?? false])).toEqual([['canon mf4800 series', false]]);
    expect(received).toMatch(/^Received: from canon mf4800 series \(unknown \[127\.0\.0\.1\]\)\r\n\tby .* with ESMTP id /);

    const helo = await session(['HELO Old Fax Machine'], 'spaced helo');
    expect(helo.greetings.map((g) => g.hostname)).toEqual(['old fax machine']);
  });

  it('addresses without angle brackets (with or without a space after the colon, with parameters) are accepted and checked like any other', async () => {
    const from = events.length;
    const { client } = await RawSmtp.connect(t.port);
    await client.command('HELO old-scanner');
    expect((await client.command('MAIL FROM:scanner@example.com SIZE=100')).raw).toBe('250 2.1.0 Accepted');
    expect((await client.command('RCPT TO: office@example.com')).raw).toBe('250 2.1.5 Accepted');
    // Not a free pass: relay rules and syntax apply to the address as to one in brackets.
    expect((await client.command('RCPT TO:someone@elsewhere.example')).code).toBe(550);
    expect((await client.command('RCPT TO:not-an-address')).code).toBe(501);
    expect((await client.command('DATA')).code).toBe(354);
    expect((await client.command('Subject: bare addresses\r\n\r\nscan\r\n.')).code).toBe(250);
    client.close();
    const logged = events.slice(from).filter((e): e is SessionEvent => e.type === 'mail' || e.type === 'rcpt');
    expect(logged.map((e) => (e.type === 'mail' ? e.from : e.type === 'rcpt' ? e.to : ''))).toEqual(['scanner@example.com', 'office@example.com', 'someone@elsewhere.example']);
    const message = await eventually(() => droppedMessages(path.join(t.dir, 'drop')).find((m) => m.includes('Subject: bare addresses')));
    expect(message).toContain('for <office@example.com>;');
  });

  it('a greeting that fails changes nothing and logs no greeting; control characters are still refused', async () => {
    const { replies, greetings, received } = await session(['EHLO first.example', 'EHLO', `EHLO bad\u0001name here`, `HELO ${'x'.repeat(300)} y`], 'after failures');
    expect(replies.slice(1).map((r) => r.slice(0, 3))).toEqual(['501', '501', '501']);
    expect(greetings.map((g) => g.hostname)).toEqual(['first.example']);
    expect(received).toMatch(/^Received: from first\.example /);
  });
});
