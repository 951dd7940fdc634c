// Devices that cannot sign in (SPEC §9), over real sockets: swaks as the scanner from 127.0.0.5
// relays without AUTH while 127.0.0.6 gets 530 and a signed-in user still relays; the pinned
// sender, the recipient domains and the hourly limit are enforced and logged with the device's
// name; old TLS only on a server nobody signs in to; per-user limits; the CLI's device commands;
// the simulator and the self-probe from the device's address.
import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminHandlers } from '../../server/admin';
import { DEFAULT_SERVER_NAME, type TrustedDeviceInput, trustedDeviceSchema } from '../../server/contract/settings';
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';
import { cli } from '../helpers/serve-process';
import { startTestApp, type TestApp } from '../helpers/test-app';

const PASSWORD = 'correct horse battery';
const open: TestApp[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

function swaks(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('swaks', args, { timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code) || 1 : 0, output: stdout + stderr }));
  });
}

const printer: TrustedDeviceInput = { name: 'Reception printer', match: { kind: 'address', address: '127.0.0.5' }, senders: ['scanner@example.com'] };

async function deviceApp(devices: TrustedDeviceInput[], extra: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'], ...extra, server: { ...extra.server, access: { ...extra.server?.access, trustedDevices: devices } } });
  open.push(t);
  return t;
}

async function device(t: TestApp, from: string, tls = true): Promise<RawSmtp> {
  const { client } = await RawSmtp.connect(t.port, { localAddress: from });
  await client.command('EHLO scanner.local');
  if (tls) {
    await client.startTls();
    await client.command('EHLO scanner.local');
  }
  return client;
}

describe('trusted devices', () => {
  it('with anonymous off: the device relays without signing in (swaks), another address gets 530, a signed-in user still relays, the pinned sender holds', async () => {
    const t = await deviceApp([printer]);
    const base = ['--server', `127.0.0.1:${t.port}`, '--tls'];
    const sent = await swaks([...base, '--local-interface', '127.0.0.5', '--from', 'scanner@example.com', '--to', 'someone@partner.example']);
    expect(sent.output).toMatch(/<~ {2}250 2\.6\.0 Queued as /);
    const stranger = await swaks([...base, '--local-interface', '127.0.0.6', '--from', 'scanner@example.com', '--to', 'someone@partner.example']);
    expect(stranger.output).toContain('530 5.7.0 Authentication required');
    const user = await swaks([...base, '--local-interface', '127.0.0.6', '--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', PASSWORD, '--from', 'alice@example.com', '--to', 'someone@partner.example']);
    expect(user.output).toMatch(/<~ {2}250 2\.6\.0 Queued as /);
    const spoof = await swaks([...base, '--local-interface', '127.0.0.5', '--from', 'ceo@example.com', '--to', 'someone@partner.example']);
    expect(spoof.output).toContain('550 5.7.1 Sender address <ceo@example.com> is not allowed for trusted device "Reception printer"');
    // The log names the device on each of its events, and the rule that refused the spoofed sender.
    const events = t.app.eventLog.query({ address: '127.0.0.5', limit: 100 });
    expect(events.filter((e) => e.type === 'connect').every((e) => e.device === 'Reception printer')).toBe(true);
    expect(events.some((e) => e.type === 'mail' && e.decision.rule === 'device:sender-not-allowed Reception printer')).toBe(true);
    expect(events.some((e) => e.type === 'rcpt' && e.decision.rule === 'relay:trusted-device Reception printer')).toBe(true);
  }, 60_000);

  it('requires TLS of a device unless it may send without, limits recipient domains and messages per hour', async () => {
    const t = await deviceApp([
      { ...printer, recipientDomains: ['example.com'], perHour: 2 },
      { name: 'Old app', match: { kind: 'subnet', network: '127.0.7.0', prefix: 24 }, senders: ['@example.com'], allowWithoutTls: true },
    ]);
    const plain = await device(t, '127.0.0.5', false);
    expect((await plain.command('MAIL FROM:<scanner@example.com>')).raw).toBe('530 5.7.0 Must issue a STARTTLS command first');
    plain.close();
    const oldApp = await device(t, '127.0.7.9', false);
    expect((await oldApp.command('MAIL FROM:<billing@example.com>')).code).toBe(250);
    expect((await oldApp.command('RCPT TO:<customer@partner.example>')).code).toBe(250);
    oldApp.close();
    const client = await device(t, '127.0.0.5');
    const send = async (to: string) => {
      const mail = await client.command('MAIL FROM:<scanner@example.com>');
      if (mail.code !== 250) return mail.raw;
      const rcpt = await client.command(`RCPT TO:<${to}>`);
      if (rcpt.code !== 250) {
        await client.command('RSET');
        return rcpt.raw;
      }
      await client.command('DATA');
      return (await client.command('Subject: scan\r\n\r\npage\r\n.')).raw;
    };
    expect(await send('office@partner.example')).toBe('550 5.7.1 Recipient <office@partner.example> is not in a domain trusted device "Reception printer" may send to');
    expect(await send('office@example.com')).toMatch(/^250 2\.6\.0 /);
    expect(await send('office@sub.example.com')).toMatch(/^250 2\.6\.0 /);
    expect(await send('office@example.com')).toBe('452 4.7.0 Message rate limit of 2 per hour reached for trusted device "Reception printer", try again later');
    client.close();
  });

  it('limits signed-in users too: messages per hour and recipients per day', async () => {
    const t = await deviceApp([]);
    t.app.store.updateUser('alice', { perHour: 2, recipientsPerDay: 3 });
    const { client } = await RawSmtp.connect(t.port);
    await client.command('EHLO pc.local');
    await client.startTls();
    await client.command('EHLO pc.local');
    await client.command(`AUTH PLAIN ${plainAuth('alice', PASSWORD)}`);
    const message = async (recipients: string[]) => {
      const mail = await client.command('MAIL FROM:<alice@example.com>');
      if (mail.code !== 250) return mail.raw;
      for (const r of recipients) {
        const rcpt = await client.command(`RCPT TO:<${r}>`);
        if (rcpt.code !== 250) {
          await client.command('RSET');
          return rcpt.raw;
        }
      }
      await client.command('DATA');
      return (await client.command('Subject: x\r\n\r\ny\r\n.')).raw;
    };
    expect(await message(['a@partner.example', 'b@partner.example'])).toMatch(/^250 2\.6\.0 /);
    expect(await message(['c@partner.example', 'd@partner.example'])).toBe('452 4.7.0 Daily recipient limit of 3 reached for alice, try again later');
    expect(await message(['c@partner.example'])).toMatch(/^250 2\.6\.0 /);
    expect(await message(['e@partner.example'])).toBe('452 4.7.0 Message rate limit of 2 per hour reached for alice, try again later');
    client.close();
  });

  it('old TLS only on a server nobody signs in to: refused on the users\' server, accepted for the device server', async () => {
    const t = await deviceApp([printer]);
    const api = createAdminHandlers(t.app);
    await expect(api['servers.update']({ name: DEFAULT_SERVER_NAME, patch: { access: { requireStrongEncryption: false, allowLegacyTls: true } } })).rejects.toThrow(/only for a server nobody signs in to/);
    const deviceServer = await api['servers.create']({ server: {
      ...t.app.store.getServer(DEFAULT_SERVER_NAME), name: 'Scanners', port: 0, relayRules: [], connectionRules: [{ kind: 'address', address: '127.0.0.5' }],
      access: { ...t.app.store.getServer(DEFAULT_SERVER_NAME).access, basicAuth: false, cramMd5: false, connectionMode: 'only-list', requireStrongEncryption: false, allowLegacyTls: true, trustedDevices: [trustedDeviceSchema.parse(printer)] },
    } });
    expect(deviceServer.access.allowLegacyTls).toBe(true);
    const port = t.app.engine.status().find((s) => s.name === 'Scanners')?.listening[0]?.port ?? 0;
    const { client } = await RawSmtp.connect(port, { localAddress: '127.0.0.5' });
    await client.command('EHLO old-scanner');
    expect((await client.startTls({ minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' })).code).toBe(220);
    expect(client.tlsSocket?.getProtocol()).toBe('TLSv1');
    await client.command('EHLO old-scanner');
    expect((await client.command('MAIL FROM:<scanner@example.com>')).code).toBe(250);
    client.close();
    const other = await RawSmtp.connect(port, { localAddress: '127.0.0.6' });
    expect(other.greeting.raw).toBe('554 5.7.1 Access denied');
  });

  it('the simulator and the self-probe answer for the device\'s address and name the entry', async () => {
    const t = await deviceApp([printer]);
    const api = createAdminHandlers(t.app);
    const simulated = await api['policy.simulate']({ server: DEFAULT_SERVER_NAME, address: '127.0.0.5', tls: true, mailFrom: 'scanner@example.com', rcptTo: ['x@partner.example'] });
    expect(simulated).toMatchObject({ device: 'Reception printer', accepted: true });
    expect(simulated.steps.at(-1)?.decision.rule).toBe('relay:trusted-device Reception printer');
    const spoofed = await api['policy.simulate']({ server: DEFAULT_SERVER_NAME, address: '127.0.0.5', tls: true, mailFrom: 'ceo@example.com', rcptTo: ['x@partner.example'] });
    expect(spoofed.steps.at(-1)?.decision).toMatchObject({ code: 550, rule: 'device:sender-not-allowed Reception printer' });
    const probe = await api['probe.run']({ server: DEFAULT_SERVER_NAME, sourceAddress: '127.0.0.5' });
    expect(probe.target).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(probe.checks.find((c) => c.id === 'device-relay-allowed')).toMatchObject({ pass: true });
    expect(probe.checks.find((c) => c.id === 'device-sender-pinned')).toMatchObject({ pass: true });
    expect(probe.checks.some((c) => c.id === 'unauthenticated-relay-refused')).toBe(false);
  });

  it('CLI: device add, list and remove, with the same validation; a refused entry changes nothing', async () => {
    const t = await deviceApp([]);
    await t.app.stop(50);
    const data = ['--data', t.dir];
    const added = await cli(['device', 'add', DEFAULT_SERVER_NAME, 'Reception printer', '--address', '127.0.0.5', '--sender', 'scanner@example.com', '--recipient-domain', 'example.com', '--per-hour', '60', ...data]);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('trusted device "Reception printer" (127.0.0.5) may send through Default SMTP virtual server without signing in, only as scanner@example.com');
    const group = await cli(['device', 'add', DEFAULT_SERVER_NAME, 'Warehouse', '--address', '127.0.8.0/24', '--no-tls', ...data]);
    expect(group.stdout).toContain('as ANY sender');
    expect(group.stdout).toContain('warning: this device may send without TLS');
    const bad = await cli(['device', 'add', DEFAULT_SERVER_NAME, 'Bad', '--address', '127.0.0.9', '--sender', 'not an address', ...data]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/access\.trustedDevices\[2\]\.senders\[0\]: must be an address or @domain/);
    const twice = await cli(['device', 'add', DEFAULT_SERVER_NAME, 'reception printer', '--address', '127.0.0.9', ...data]);
    expect(twice.stderr).toMatch(/already in the list/);
    const list = await cli(['device', 'list', DEFAULT_SERVER_NAME, ...data]);
    expect(list.stdout).toMatch(/^Reception printer\t127\.0\.0\.5\tsenders: scanner@example\.com\trecipient domains: example\.com\tper hour: 60\tTLS required$/m);
    expect(list.stdout).toMatch(/^Warehouse\t127\.0\.8\.0\/24\tsenders: any\t.*may send WITHOUT TLS$/m);
    expect((await cli(['device', 'remove', DEFAULT_SERVER_NAME, 'Warehouse', ...data])).code).toBe(0);
    expect((await cli(['device', 'list', DEFAULT_SERVER_NAME, ...data])).stdout).not.toContain('Warehouse');
    const exported = JSON.parse((await cli(['config', 'export', ...data])).stdout) as { servers: Array<{ access: { trustedDevices: unknown[] } }> };
    expect(exported.servers[0]?.access.trustedDevices).toEqual([{ name: 'Reception printer', match: { kind: 'address', address: '127.0.0.5' }, senders: ['scanner@example.com'], recipientDomains: ['example.com'], perHour: 60, allowWithoutTls: false }]);
    expect((await cli(['user', 'limit', 'alice', '--per-hour', '30', '--recipients-per-day', '10000', ...data])).stdout).toContain('alice: 30 messages per hour, 10000 recipients per day');
  }, 60_000);
});
