// A TLS handshake that fails is a refusal like any other: the live log says why the client left,
// in plain words with the rule (an old scanner that speaks only TLS 1.1, no cipher in common, a
// client that rejects the certificate, plain text after STARTTLS, a client that walks away), on
// the STARTTLS port and on the implicit-TLS port. Real handshakes: Node's TLS client and openssl.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminHandlers } from '../../server/admin';
import type { RelaydeskEvent, SessionEvent } from '../../server/contract/events';
import { formatEventLine } from '../../server/contract/log-view';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { RawSmtp } from '../../server/smtp/line-client';
import { csvLines, W3C_FIELD_NAMES, w3cField, w3cRecords } from '../helpers/log-export';
import { eventually, startTestApp, type TestApp } from '../helpers/test-app';

type TlsEvent = Extract<SessionEvent, { type: 'starttls' }>;

describe('failed TLS handshakes are in the log with the reason', () => {
  let t: TestApp;
  let implicitPort = 0;
  const events: RelaydeskEvent[] = [];
  beforeAll(async () => {
    t = await startTestApp({ server: { tlsPort: 0, connectionTimeoutSeconds: 5 } }); // 5: the shortest allowed, for the silent client below
    t.app.bus.subscribe((e) => events.push(e));
    implicitPort = t.app.engine.status().find((s) => s.name === DEFAULT_SERVER_NAME)?.listening.find((l) => l.mode === 'implicit-tls')?.port ?? 0;
  });
  afterAll(() => t.close());

  /** The connection's TLS event and whether its close followed it, once the server has seen the socket close. */
  async function loggedFailure(from: number): Promise<{ event: TlsEvent; closedAfter: boolean }> {
    return eventually(() => {
      const mine = events.slice(from).filter((e): e is SessionEvent => 'session' in e);
      const event = mine.find((e): e is TlsEvent => e.type === 'starttls');
      if (!event) return null;
      const ofSession = mine.filter((e) => e.session === event.session);
      const close = ofSession.findIndex((e) => e.type === 'close');
      if (event.decision.verdict === 'allow') return { event, closedAfter: false };
      return { event, closedAfter: close > ofSession.indexOf(event) || ofSession[0]?.type === 'starttls' };
    }, 5000);
  }

  async function afterStartTls(port: number, client: (socket: net.Socket) => Promise<void>): Promise<void> {
    const { client: smtp } = await RawSmtp.connect(port);
    await smtp.command('EHLO client.test');
    expect((await smtp.command('STARTTLS')).code).toBe(220);
    await client((smtp as unknown as { socket: net.Socket }).socket);
    smtp.close();
  }

  function handshake(socket: net.Socket | null, port: number, options: tls.ConnectionOptions): Promise<string> {
    return new Promise((resolve) => {
      const secure = tls.connect({ ...(socket ? { socket } : { port, host: '127.0.0.1' }), rejectUnauthorized: false, ...options }, () => { secure.destroy(); resolve('connected'); });
      secure.on('error', (err) => { secure.destroy(); resolve(err.message); });
    });
  }

  it('a client that offers only TLS 1.1: tls:legacy-protocol, with what to do', async () => {
    const from = events.length;
    await afterStartTls(t.port, async (socket) => {
      expect(await handshake(socket, 0, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' })).not.toBe('connected');
    });
    const { event, closedAfter } = await loggedFailure(from);
    expect(event.decision).toMatchObject({ verdict: 'refuse', code: 0, rule: 'tls:legacy-protocol' });
    expect(event.decision.text).toMatch(/^TLS handshake failed: the client offers only TLS 1\.1 or older; this server requires TLS 1\.2 or newer/);
    expect(event.protocol).toBe('');
    expect(closedAfter).toBe(true);
    expect(formatEventLine(event)).toContain('TLS handshake failed: the client offers only TLS 1.1 or older');
    expect(formatEventLine(event)).toContain('[tls:legacy-protocol]');
  });

  it('no cipher in common: tls:weak-cipher', async () => {
    const from = events.length;
    await afterStartTls(t.port, async (socket) => {
      expect(await handshake(socket, 0, { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' })).not.toBe('connected');
    });
    const { event } = await loggedFailure(from);
    expect(event.decision).toMatchObject({ code: 0, rule: 'tls:weak-cipher' });
    expect(event.decision.text).toContain('no cipher in common');
  });

  it('a client that rejects the self-signed certificate (openssl -verify_return_error): tls:certificate-not-trusted', async () => {
    const from = events.length;
    // A CA file that does not hold the server's issuer (one of Node's bundled public roots).
    const otherCa = path.join(t.dir, 'other-ca.pem');
    fs.writeFileSync(otherCa, tls.rootCertificates[0] ?? '');
    const child = spawn('openssl', ['s_client', '-starttls', 'smtp', '-connect', `127.0.0.1:${t.port}`, '-verify_return_error', '-CAfile', otherCa], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.end('QUIT\n');
    await new Promise((resolve) => child.on('exit', resolve));
    const { event } = await loggedFailure(from);
    expect(event.decision).toMatchObject({ code: 0, rule: 'tls:certificate-not-trusted' });
    expect(event.decision.text).toMatch(/does not accept this server's certificate \(unknown ca\)/);
  });

  it('plain text after STARTTLS, and a client that leaves mid-handshake', async () => {
    let from = events.length;
    await afterStartTls(t.port, async (socket) => {
      socket.write('MAIL FROM:<a@example.com>\r\n');
      await new Promise((resolve) => socket.once('close', resolve));
    });
    expect((await loggedFailure(from)).event.decision).toMatchObject({ code: 0, rule: 'tls:not-tls' });

    from = events.length;
    await afterStartTls(t.port, async () => undefined);
    const left = await loggedFailure(from);
    expect(left.event.decision).toMatchObject({ code: 0, rule: 'tls:handshake-abandoned', text: 'TLS handshake not completed: the client closed the connection' });
    expect(left.closedAfter).toBe(true);
  });

  it('a client set to SSL/TLS (implicit) on the STARTTLS port: told once, logged with tls:ssl-on-starttls-port, closed', async () => {
    const from = events.length;
    const socket = net.connect(t.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('data', resolve)); // the greeting
    const closed = new Promise((resolve) => socket.once('close', resolve));
    expect(await handshake(socket, 0, {})).not.toBe('connected');
    await closed;
    const refusal = await eventually(() => events.slice(from).find((e): e is SessionEvent => e.type === 'reply' && e.decision.rule === 'tls:ssl-on-starttls-port'));
    expect(refusal.type === 'reply' && refusal.decision).toMatchObject({ verdict: 'refuse', code: 500, enhanced: '5.5.2', close: true });
    expect(formatEventLine(refusal)).toContain('The client began TLS without STARTTLS: set it to STARTTLS for this port');
    // One refusal, not one "500 command not recognized" per line of the handshake's bytes.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ofSession = events.slice(from).filter((e): e is SessionEvent => 'session' in e && e.session === refusal.session);
    expect(ofSession.filter((e) => e.type === 'reply')).toHaveLength(1);
  });

  it('on the implicit-TLS port too; a good handshake logs its protocol and no failure', async () => {
    expect(implicitPort).toBeGreaterThan(0);
    let from = events.length;
    expect(await handshake(null, implicitPort, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' })).not.toBe('connected');
    expect((await loggedFailure(from)).event.decision).toMatchObject({ code: 0, rule: 'tls:legacy-protocol' });

    from = events.length;
    const { client, greeting } = await RawSmtp.connect(implicitPort, { implicitTls: { rejectUnauthorized: false } });
    expect(greeting.code).toBe(220);
    await client.command('EHLO client.test');
    await client.command('QUIT');
    client.close();
    const good = await loggedFailure(from);
    expect(good.event.decision.verdict).toBe('allow');
    expect(good.event.protocol).toMatch(/^TLSv1\.[23]$/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events.slice(from).filter((e) => e.type === 'starttls' && e.decision.code === 0)).toEqual([]);
  });

  it('a client that waits for a greeting on the implicit-TLS port (set to STARTTLS or no encryption): tls:plain-on-tls-port', async () => {
    const from = events.length;
    const socket = net.connect(implicitPort, '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await closed; // the server gives up after the connection time-out (5 s here)
    const { event } = await loggedFailure(from);
    expect(event.decision).toMatchObject({ code: 0, rule: 'tls:plain-on-tls-port' });
    expect(event.decision.text).toContain('set it to SSL/TLS, or point it at the STARTTLS port');
  }, 15_000);

  it('exports a failed handshake as STARTTLS with its rule and no reply code (W3C, CSV)', async () => {
    const failed = events.find((e): e is TlsEvent => e.type === 'starttls' && e.decision.rule === 'tls:legacy-protocol');
    expect(failed).toBeDefined();
    const api = createAdminHandlers(t.app);
    const filter = { session: failed?.session ?? '', type: 'starttls', limit: 10 };
    const w3c = await w3cRecords(api, filter);
    expect(w3c).toHaveLength(1);
    const record = w3c[0];
    expect(record).toHaveLength(W3C_FIELD_NAMES.length);
    expect(['cs-method', 'cs-uri-query', 'sc-status'].map((name) => w3cField(record, name))).toEqual(['STARTTLS', 'tls:legacy-protocol', '-']);
    const csv = await csvLines(api, filter);
    expect(csv[1]).toContain(',starttls,STARTTLS tls:legacy-protocol,,,"TLS handshake failed: the client offers only TLS 1.1 or older');
  });

  it('counts them as refusals by rule, not as TLS handshakes', () => {
    const counters = t.app.counters.read();
    const refusals = counters.perServer[DEFAULT_SERVER_NAME]?.refusals ?? {};
    expect(refusals['tls:legacy-protocol']).toBeGreaterThanOrEqual(2);
    expect(refusals['tls:handshake-abandoned']).toBeGreaterThanOrEqual(1);
  });
});
