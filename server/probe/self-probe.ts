// The self-probe of the "Test settings" page (KB 823019, "test your settings"): a real SMTP
// client from this machine against a running virtual server, checking what an attacker or a
// misconfigured client would see. Every failed check says what to change.
import crypto from 'node:crypto';
import tls from 'node:tls';
import type { ProbeCheck, ProbeReport } from '../contract/admin-api';
import type { TrustedDevice, VirtualServerConfig } from '../contract/settings';
import { plainAuth, RawSmtp, type Reply } from '../smtp/line-client';

export interface ProbeTarget {
  config: VirtualServerConfig;
  /** Address and port of the STARTTLS listener to probe. */
  host: string;
  port: number;
  /** Optional test user for "authenticated relay is allowed". */
  user?: string;
  password?: string;
  /** Probe from this address of the machine (a trusted device's address on loopback, say). */
  sourceAddress?: string;
  /** The trusted device that address belongs to: its relay grant and pinned senders are checked instead. */
  device?: TrustedDevice | null;
}

function connectOptions(target: ProbeTarget): { host: string; localAddress?: string } {
  return target.sourceAddress ? { host: target.host, localAddress: target.sourceAddress } : { host: target.host };
}

const PROBE_SENDER = 'relaydesk-probe@example.invalid';
const PROBE_RECIPIENT = 'relay-test@example.net';

export async function runSelfProbe(target: ProbeTarget): Promise<ProbeReport> {
  const checks: ProbeCheck[] = [];
  const add = (id: string, title: string, pass: boolean, detail: string, advice: string | null) => checks.push({ id, title, pass, detail, advice: pass ? null : advice });
  const { config } = target;
  const report = (): ProbeReport => ({ server: config.name, target: `${target.host}:${target.port}`, checks, passed: checks.every((c) => c.pass) });

  let session: { client: RawSmtp; greeting: Reply };
  try {
    session = await RawSmtp.connect(target.port, connectOptions(target));
  } catch (err) {
    add('greeting', 'The server answers', false, (err as Error).message, 'Start the virtual server, or check its address and port.');
    return report();
  }
  const { client, greeting } = session;
  try {
    add('greeting', 'The server answers with its FQDN', greeting.code === 220 && greeting.text.startsWith(config.fqdn), greeting.raw,
      greeting.code === 220 ? 'Set the FQDN on the General tab to the name clients use.' : 'This machine is refused by Connection control; add 127.0.0.1 to test from here.');
    if (greeting.code !== 220) return report();

    const ehlo = await client.command('EHLO relaydesk-probe');
    const authLine = ehlo.lines.find((l) => /^250[- ]AUTH /.test(l)) ?? '';
    const startTlsOffered = ehlo.lines.some((l) => /^250[- ]STARTTLS$/.test(l));
    add('starttls-offered', 'STARTTLS is offered', startTlsOffered, startTlsOffered ? 'STARTTLS advertised' : 'STARTTLS not advertised', 'Assign a certificate to this server (Access → Certificate).');
    const basicBeforeTls = /\b(PLAIN|LOGIN)\b/.test(authLine);
    add('auth-hidden-before-tls', 'Password authentication is not offered before TLS', !basicBeforeTls, authLine ? authLine.slice(4) : 'no AUTH before TLS',
      'Tick "Requires TLS encryption" under Access → Authentication, so passwords never cross the network in clear.');

    const plain = await client.command(`AUTH PLAIN ${plainAuth('relaydesk-probe', crypto.randomBytes(12).toString('hex'))}`);
    const refusedInClear = plain.code === 530 || plain.code === 538 || plain.code === 504 || plain.code === 502;
    add('plaintext-auth-refused', 'A password sent before TLS is refused unread', refusedInClear, plain.raw,
      'Tick "Requires TLS encryption" (Authentication) or "Require secure channel" (Communication).');

    if (startTlsOffered) {
      const upgraded = await client.startTls({ rejectUnauthorized: false, servername: config.fqdn });
      const socket = client.tlsSocket;
      if (upgraded.code === 220 && socket) {
        const protocol = socket.getProtocol() ?? 'unknown';
        const cipher = socket.getCipher();
        const modern = protocol === 'TLSv1.3' || protocol === 'TLSv1.2';
        add('tls-handshake', 'TLS 1.2 or newer is negotiated', modern, `${protocol} ${cipher.name}`, 'Untick "allow legacy TLS" or move old devices to a dedicated virtual server.');
        const peer = socket.getPeerCertificate();
        const namesError = peer && peer.subject ? tls.checkServerIdentity(config.fqdn, peer) : new Error('no certificate');
        add('certificate-names', `The certificate covers ${config.fqdn}`, !namesError, peer?.subjectaltname ?? 'no subject alternative names',
          'Create or import a certificate whose names include the FQDN (Access → Certificate).');
        const daysLeft = peer?.valid_to ? Math.floor((Date.parse(peer.valid_to) - Date.now()) / 86_400_000) : -1;
        add('certificate-valid', 'The certificate is valid for more than 30 days', daysLeft > 30, peer?.valid_to ? `valid until ${new Date(peer.valid_to).toISOString().slice(0, 10)} (${daysLeft} days)` : 'unknown',
          'Renew the certificate before clients start refusing it.');
        await client.command('EHLO relaydesk-probe');
        if (target.device) {
          await deviceChecks(client, target.device, add);
        } else {
          await client.command(`MAIL FROM:<${PROBE_SENDER}>`);
          const relay = await client.command(`RCPT TO:<${PROBE_RECIPIENT}>`);
          add('unauthenticated-relay-refused', 'Anonymous relaying is refused', relay.code >= 500 || relay.code === 530, `RCPT TO:<${PROBE_RECIPIENT}> → ${relay.raw}`,
            'Set Relay to "Only the list below" with an empty list, or untick Anonymous access: this server is an open relay.');
        }
      } else {
        add('tls-handshake', 'TLS 1.2 or newer is negotiated', false, upgraded.raw, 'Check the certificate assigned to this server.');
      }
    }
  } finally {
    client.close();
  }

  checks.push(await legacyTlsCheck(target));
  if (target.user && target.password) checks.push(await authenticatedRelayCheck(target, target.user, target.password));
  return report();
}

/** From a trusted device's address: it relays without signing in, and only as its pinned senders. */
async function deviceChecks(client: RawSmtp, device: TrustedDevice, add: (id: string, title: string, pass: boolean, detail: string, advice: string | null) => void): Promise<void> {
  const allowed = device.senders[0];
  const sender = allowed === undefined ? PROBE_SENDER : allowed.replace(/^\*?@/, 'relaydesk-probe@');
  const recipient = device.recipientDomains[0] ? `relaydesk-probe@${device.recipientDomains[0]}` : PROBE_RECIPIENT;
  const mail = await client.command(`MAIL FROM:<${sender}>`);
  const rcpt = mail.code === 250 ? await client.command(`RCPT TO:<${recipient}>`) : mail;
  add('device-relay-allowed', `Trusted device "${device.name}" sends without signing in`, rcpt.code === 250, `MAIL FROM:<${sender}> RCPT TO:<${recipient}> → ${rcpt.raw}`,
    'Check the device\'s address in Access → Trusted devices, and its "may send without TLS" setting.');
  await client.command('RSET');
  if (device.senders.length > 0) {
    const foreign = await client.command('MAIL FROM:<someone-else@relaydesk-probe.invalid>');
    add('device-sender-pinned', `Trusted device "${device.name}" may not use other senders`, foreign.code === 550, foreign.raw,
      'Keep the device\'s allowed senders in Access → Trusted devices.');
    await client.command('RSET');
  }
}

async function legacyTlsCheck(target: ProbeTarget): Promise<ProbeCheck> {
  const title = 'TLS 1.0 and 1.1 are refused';
  const wanted = !target.config.access.allowLegacyTls || target.config.access.requireStrongEncryption;
  let negotiated: string | null = null;
  try {
    const { client } = await RawSmtp.connect(target.port, connectOptions(target));
    try {
      await client.command('EHLO relaydesk-probe');
      await client.startTls({ rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
      negotiated = client.tlsSocket?.getProtocol() ?? null;
    } finally {
      client.close();
    }
  } catch {
    negotiated = null;
  }
  const pass = negotiated === null;
  const detail = negotiated ? `${negotiated} accepted` : 'legacy handshake refused';
  if (!wanted && !pass) {
    return { id: 'legacy-tls-refused', title, pass: false, detail, advice: 'Legacy TLS is allowed on purpose here; keep only the old devices on this server (Connection control: only their addresses).' };
  }
  return { id: 'legacy-tls-refused', title, pass, detail, advice: pass ? null : 'Untick "allow legacy TLS 1.0/1.1".' };
}

async function authenticatedRelayCheck(target: ProbeTarget, user: string, password: string): Promise<ProbeCheck> {
  const title = `An authenticated user (${user}) may relay`;
  try {
    const { client } = await RawSmtp.connect(target.port, connectOptions(target));
    try {
      await client.command('EHLO relaydesk-probe');
      await client.startTls({ rejectUnauthorized: false });
      await client.command('EHLO relaydesk-probe');
      const auth = await client.command(`AUTH PLAIN ${plainAuth(user, password)}`);
      if (auth.code !== 235) return { id: 'authenticated-relay-allowed', title, pass: false, detail: auth.raw, advice: 'Check the test user name and password, and that the user is enabled.' };
      const mail = await client.command(`MAIL FROM:<${user.includes('@') ? user : PROBE_SENDER}>`);
      const rcpt = mail.code === 250 ? await client.command(`RCPT TO:<${PROBE_RECIPIENT}>`) : mail;
      await client.command('RSET');
      return {
        id: 'authenticated-relay-allowed', title, pass: rcpt.code === 250, detail: rcpt.raw,
        advice: rcpt.code === 250 ? null : 'Tick "Allow all computers which successfully authenticate to relay" under Access → Relay.',
      };
    } finally {
      client.close();
    }
  } catch (err) {
    return { id: 'authenticated-relay-allowed', title, pass: false, detail: (err as Error).message, advice: 'Start the server and try again.' };
  }
}
