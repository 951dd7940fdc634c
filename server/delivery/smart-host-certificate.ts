// Trusting a smart host by its certificate's fingerprint. Node verifies a chain before it would
// call any hook, so a pin cannot be checked during the handshake without a trust anchor: the
// admin names the SHA-256 fingerprint, Relaydesk fetches the certificate the smart host presents,
// keeps it only if the fingerprint matches, and from then on trusts exactly that certificate
// (it is the only CA, and the fingerprint must match again on every connection).
import crypto from 'node:crypto';
import tls from 'node:tls';
import type { SmartHostCertificate } from '../contract/admin-api';
import type { SmartHost, VirtualServerConfig } from '../contract/settings';
import type { Store } from '../store/store';
import { AdminError } from '../contract/errors';
import { RawSmtp } from '../smtp/line-client';


export function normalizeFingerprint(value: string): string {
  const hex = value.replace(/^sha-?256\s*(fingerprint)?\s*=?\s*/i, '').replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new AdminError('invalid', 'a SHA-256 fingerprint is 64 hexadecimal digits (colons optional)', 'fingerprint');
  return hex.match(/../g)?.join(':') ?? hex;
}

export function fingerprintOfPem(pem: string): string {
  return normalizeFingerprint(new crypto.X509Certificate(pem).fingerprint256);
}

/** TLS options for a connection to the smart host: pinned certificate, verified chain, or none. */
export function smartHostTlsOptions(host: SmartHost): tls.ConnectionOptions {
  const base: tls.ConnectionOptions = { servername: host.host, minVersion: 'TLSv1.2' };
  if (host.trustedCertificate) {
    const pinned = fingerprintOfPem(host.trustedCertificate);
    return {
      ...base, rejectUnauthorized: true, ca: [host.trustedCertificate], allowPartialTrustChain: true,
      // The pin replaces the name check: the admin trusted this certificate for this smart host.
      checkServerIdentity: (_name, cert) => (normalizeFingerprint(cert.fingerprint256) === pinned ? undefined
        : new Error(`the smart host's certificate (${cert.fingerprint256}) is not the trusted one (${pinned})`)),
    };
  }
  return { ...base, rejectUnauthorized: host.verifyCertificate };
}

/** Connect as delivery would (STARTTLS or implicit TLS) and return the certificate the smart host shows. */
export async function fetchSmartHostCertificate(host: SmartHost, clientName: string, timeoutMs = 15_000): Promise<SmartHostCertificate> {
  if (host.security === 'none') throw new AdminError('invalid', 'the smart host is set to no encryption: there is no certificate to trust', 'security');
  const options: tls.ConnectionOptions = { servername: host.host, rejectUnauthorized: false, minVersion: 'TLSv1.2' };
  let client: RawSmtp | null = null;
  const work = (async () => {
    const connected = await RawSmtp.connect(host.port, { host: host.host, ...(host.security === 'tls' ? { implicitTls: options } : {}) });
    client = connected.client;
    if (host.security === 'starttls') {
      const ehlo = await client.command(`EHLO ${clientName}`);
      if (!/STARTTLS/i.test(ehlo.raw)) throw new AdminError('conflict', `${host.host}:${host.port} does not offer STARTTLS`, 'security');
      const reply = await client.startTls(options);
      if (reply.code !== 220) throw new AdminError('conflict', `${host.host}:${host.port} refused STARTTLS: ${reply.raw}`, 'security');
    }
    const socket = client.tlsSocket;
    const cert = socket?.getPeerX509Certificate();
    if (!socket || !cert) throw new AdminError('conflict', `${host.host}:${host.port} presented no certificate`, 'host');
    const chainError = socket.authorizationError ? String(socket.authorizationError) : null;
    const nameError = tls.checkServerIdentity(host.host, socket.getPeerCertificate());
    return {
      subject: cert.subject.replace(/\n/g, ', '), issuer: cert.issuer.replace(/\n/g, ', '), validTo: new Date(cert.validTo).toISOString(),
      fingerprint256: normalizeFingerprint(cert.fingerprint256), pem: cert.toString(),
      verifies: !chainError && !nameError, verifyError: chainError ?? nameError?.message ?? null,
    };
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new AdminError('unavailable', `${host.host}:${host.port} did not answer within ${timeoutMs / 1000} s`, 'host')), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (err) {
    if (err instanceof AdminError) throw err;
    throw new AdminError('unavailable', `could not reach ${host.host}:${host.port}: ${(err as Error).message}`, 'host');
  } finally {
    clearTimeout(timer);
    (client as RawSmtp | null)?.close();
  }
}

/** The server and its smart host, or a conflict error when it delivers directly by MX. */
function withSmartHost(store: Store, serverName: string): { config: VirtualServerConfig; host: SmartHost } {
  const config = store.getServer(serverName);
  const host = config.delivery.smartHost;
  if (!host) throw new AdminError('conflict', `virtual server "${config.name}" has no smart host`, 'server');
  return { config, host };
}

/** The certificate the server's smart host presents now, and the fingerprint pinned for it (if any). */
export async function presentedSmartHostCertificate(store: Store, serverName: string): Promise<SmartHostCertificate & { pinned: string | null }> {
  const { config, host } = withSmartHost(store, serverName);
  const presented = await fetchSmartHostCertificate(host, config.fqdn);
  return { ...presented, pinned: host.trustedCertificate ? fingerprintOfPem(host.trustedCertificate) : null };
}

/** Trust the certificate the server's smart host presents now, if it has this fingerprint; null forgets the pin. */
export async function trustSmartHostCertificate(store: Store, serverName: string, fingerprint: string | null): Promise<SmartHostCertificate | null> {
  const { config, host } = withSmartHost(store, serverName);
  if (fingerprint === null) {
    store.updateServer(config.name, { delivery: { smartHost: { ...host, trustedCertificate: null } } });
    return null;
  }
  const wanted = normalizeFingerprint(fingerprint);
  const presented = await fetchSmartHostCertificate({ ...host, trustedCertificate: null }, config.fqdn);
  if (presented.fingerprint256 !== wanted) {
    throw new AdminError('conflict', `${host.host}:${host.port} presents a certificate with fingerprint ${presented.fingerprint256}, not ${wanted}; nothing was changed`, 'fingerprint');
  }
  store.updateServer(config.name, { delivery: { smartHost: { ...host, trustedCertificate: presented.pem } } });
  return presented;
}
