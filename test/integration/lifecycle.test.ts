// Virtual server lifecycle on real sockets: several servers at once, pause / stop / start,
// a port that cannot be bound (reported, not thrown), the connection limit, and the live
// event stream; plus CRAM-MD5 and default-domain completion at login.
import crypto from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RelaydeskEvent } from '../../server/contract/events';
import { DEFAULT_ACCESS, DEFAULT_DELIVERY, DEFAULT_MESSAGES, DEFAULT_SERVER_NAME, type VirtualServerInput } from '../../server/contract/settings';
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';
import { eventually, startTestApp, type TestApp } from '../helpers/test-app';

const open: TestApp[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

function scannerServer(over: Partial<VirtualServerInput> = {}): VirtualServerInput {
  return {
    name: 'Scanners', bindAddress: '127.0.0.1', port: 0, tlsPort: null, fqdn: 'scanners.example.com', maxConnections: 2,
    connectionTimeoutSeconds: 30, loggingEnabled: true, state: 'started',
    access: { ...DEFAULT_ACCESS, anonymous: true, requireSecureChannel: false }, messages: DEFAULT_MESSAGES,
    delivery: DEFAULT_DELIVERY, connectionRules: [], relayRules: [], certificate: null, ...over,
  };
}

function portOf(t: TestApp, name: string): number {
  return t.app.engine.status().find((s) => s.name === name)?.listening[0]?.port ?? 0;
}

describe('virtual server lifecycle', () => {
  it('runs a second server beside the default, pauses, stops and starts it again', async () => {
    const t = await startTestApp();
    open.push(t);
    const events: RelaydeskEvent[] = [];
    t.app.bus.subscribe((e) => events.push(e));
    t.app.store.createServer(scannerServer({ maxConnections: 10 }));
    await t.app.engine.reconcile();
    const port = portOf(t, 'Scanners');
    expect(port).toBeGreaterThan(0);
    const first = await RawSmtp.connect(port);
    expect(first.greeting.raw).toBe('220 scanners.example.com ESMTP');
    first.client.close();

    const kept = (await RawSmtp.connect(port)).client;
    await t.app.engine.setState('Scanners', 'paused');
    expect((await RawSmtp.connect(port)).greeting.raw).toBe('421 4.3.2 Service paused, try again later');
    expect((await kept.command('EHLO still.here')).code).toBe(250); // current sessions are kept
    kept.close();

    await t.app.engine.setState('Scanners', 'stopped');
    await expect(RawSmtp.connect(port)).rejects.toThrow(/ECONNREFUSED/);
    // The default server is untouched by all of this.
    expect((await RawSmtp.connect(t.port)).greeting.code).toBe(220);

    await t.app.engine.setState('Scanners', 'started');
    expect((await RawSmtp.connect(portOf(t, 'Scanners'))).greeting.code).toBe(220);
    expect(events.filter((e) => e.type === 'state').map((e) => 'state' in e && e.state)).toEqual(['paused', 'stopped']);
  });

  it('reports a port that is in use instead of crashing, says it once, and listens by itself once the port is free', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const busyPort = (blocker.address() as net.AddressInfo).port;
    try {
      const t = await startTestApp({ bindRetryMs: 100 });
      open.push(t);
      const events: RelaydeskEvent[] = [];
      t.app.bus.subscribe((e) => events.push(e));
      t.app.store.createServer(scannerServer({ port: busyPort }));
      await t.app.engine.reconcile();
      const status = t.app.engine.status().find((s) => s.name === 'Scanners');
      expect(status).toMatchObject({ running: false, bindRetrySeconds: 0.1, lastBindFailure: [{ port: busyPort, message: `port ${busyPort} is already in use by another program` }] });
      expect((await RawSmtp.connect(t.port)).greeting.code).toBe(220);

      // Several attempts while the port stays taken: the failure is reported once, not every time.
      await new Promise((resolve) => setTimeout(resolve, 450));
      expect(events.filter((e) => e.type === 'bind-failed')).toEqual([expect.objectContaining({ server: 'Scanners', port: busyPort })]);
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      await eventually(() => t.app.engine.status().find((s) => s.name === 'Scanners')?.running === true, 3000);
      expect(t.app.engine.status().find((s) => s.name === 'Scanners')).toMatchObject({ listening: [{ port: busyPort }], lastBindFailure: [], bindRetrySeconds: null });
      expect(events).toContainEqual(expect.objectContaining({ type: 'listening', server: 'Scanners', port: busyPort }));
      expect((await RawSmtp.connect(busyPort)).greeting.raw).toBe('220 scanners.example.com ESMTP');
    } finally {
      blocker.close();
    }
  });

  it('does not retry what cannot pass by itself: an implicit-TLS port without a certificate', async () => {
    const t = await startTestApp({ bindRetryMs: 100 });
    open.push(t);
    const events: RelaydeskEvent[] = [];
    t.app.bus.subscribe((e) => events.push(e));
    t.app.store.createServer(scannerServer({ tlsPort: 0 }));
    await t.app.engine.reconcile();
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(t.app.engine.status().find((s) => s.name === 'Scanners')).toMatchObject({ running: false, bindRetrySeconds: null, lastBindFailure: [{ message: 'the implicit-TLS port needs a certificate; assign one to this server' }] });
    // Not re-opened and closed in the background: no listening event at all.
    expect(events.filter((e) => e.type === 'listening' || e.type === 'bind-failed').map((e) => e.type)).toEqual(['bind-failed']);
  });

  it('limits simultaneous connections with 421', async () => {
    const t = await startTestApp();
    open.push(t);
    t.app.store.createServer(scannerServer({ maxConnections: 2 }));
    await t.app.engine.reconcile();
    const port = portOf(t, 'Scanners');
    const a = await RawSmtp.connect(port);
    const b = await RawSmtp.connect(port);
    const c = await RawSmtp.connect(port);
    expect([a.greeting.code, b.greeting.code]).toEqual([220, 220]);
    expect(c.greeting.raw).toMatch(/^421 .*Too many connected clients/);
    a.client.close();
    await eventually(async () => (await RawSmtp.connect(port)).greeting.code === 220);
    b.client.close();
  });

  it('reports each step of a session as an event, EHLO included', async () => {
    const t = await startTestApp({ server: { access: { ...DEFAULT_ACCESS, anonymous: true, requireSecureChannel: false } }, domains: ['example.com'] });
    open.push(t);
    const events: RelaydeskEvent[] = [];
    t.app.bus.subscribe((e) => events.push(e));
    const { client } = await RawSmtp.connect(t.port);
    await client.command('EHLO scanner-3f.office');
    await client.command('MAIL FROM:<scan@example.com>');
    await client.command('RCPT TO:<x@elsewhere.net>');
    await client.command('QUIT');
    await eventually(() => events.some((e) => e.type === 'close'));
    const steps = events.filter((e) => 'session' in e).map((e) => e.type);
    expect(steps).toEqual(['connect', 'ehlo', 'mail', 'rcpt', 'close']);
    expect(events).toContainEqual(expect.objectContaining({ type: 'ehlo', hostname: 'scanner-3f.office' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'rcpt', decision: expect.objectContaining({ code: 550, rule: 'relay:not-permitted' }) }));
  });
});

describe('login variants', () => {
  it('CRAM-MD5: the password never crosses the wire', async () => {
    const t = await startTestApp({
      users: [{ name: 'legacy', password: 'old-device-secret', cramMd5: true }, { name: 'plain', password: 'another-secret' }],
      server: { access: { ...DEFAULT_ACCESS, cramMd5: true, requireSecureChannel: false } },
    });
    open.push(t);
    const { client } = await RawSmtp.connect(t.port);
    const ehlo = await client.command('EHLO client.test');
    expect(ehlo.lines).toContain('250-AUTH CRAM-MD5');
    const login = async (user: string, secret: string) => {
      const challenge = await client.command('AUTH CRAM-MD5');
      expect(challenge.code).toBe(334);
      const digest = crypto.createHmac('md5', secret).update(Buffer.from(challenge.text, 'base64')).digest('hex');
      return (await client.command(Buffer.from(`${user} ${digest}`).toString('base64'))).raw;
    };
    expect(await login('legacy', 'wrong-secret')).toBe('535 5.7.8 Authentication credentials invalid');
    expect(await login('plain', 'another-secret')).toBe('535 5.7.8 Authentication credentials invalid'); // no CRAM secret stored
    expect(await login('legacy', 'old-device-secret')).toBe('235 2.7.0 Authentication successful');
    client.close();
  });

  it('completes a bare user name with the default domain', async () => {
    const t = await startTestApp({
      users: [{ name: 'frontdesk@example.com', password: 'front-desk-pass' }],
      server: { access: { ...DEFAULT_ACCESS, defaultDomain: 'example.com' } },
    });
    open.push(t);
    const { client } = await RawSmtp.connect(t.port);
    await client.command('EHLO client.test');
    await client.startTls();
    await client.command('EHLO client.test');
    expect((await client.command(`AUTH PLAIN ${plainAuth('frontdesk', 'front-desk-pass')}`)).code).toBe(235);
    client.close();
    expect(t.app.store.getServer(DEFAULT_SERVER_NAME).access.defaultDomain).toBe('example.com');
  });
});
