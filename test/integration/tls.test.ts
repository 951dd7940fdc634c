// TLS on the wire: what "require strong encryption" and "allow legacy TLS" let through, the
// first-start certificate as openssl reads it, and a PEM certificate made by openssl imported
// and assigned while the server runs (new handshakes see it, open sessions are kept).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { preparePemImport } from '../../server/tls/certificates';
import { RawSmtp } from '../../server/smtp/line-client';
import { eventually, startTestApp, type TestApp, tempDir } from '../helpers/test-app';

const open: TestApp[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

async function handshake(t: TestApp, options: tls.ConnectionOptions): Promise<{ ok: boolean; protocol?: string; cipher?: string; fingerprint?: string; error?: string }> {
  const { client } = await RawSmtp.connect(t.port);
  await client.command('EHLO client.test');
  try {
    await client.startTls(options);
    const socket = client.tlsSocket as tls.TLSSocket;
    return { ok: true, protocol: socket.getProtocol() ?? '', cipher: socket.getCipher().name, fingerprint: socket.getPeerCertificate().fingerprint256 };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    client.close();
  }
}

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('TLS policy on the wire', () => {
  it('strong encryption (default): TLS 1.3 and 1.2 AEAD only', async () => {
    const t = await startTestApp();
    open.push(t);
    expect(await handshake(t, {})).toMatchObject({ ok: true, protocol: 'TLSv1.3' });
    expect(await handshake(t, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toMatchObject({ ok: true, protocol: 'TLSv1.2' });
    expect((await handshake(t, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256:AES128-SHA' })).ok).toBe(false);
    expect((await handshake(t, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' })).ok).toBe(false);
  });

  it('without strong encryption: CBC allowed on TLS 1.2, TLS 1.0/1.1 still refused', async () => {
    const t = await startTestApp({ server: { access: { requireStrongEncryption: false } } });
    open.push(t);
    expect(await handshake(t, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256' })).toMatchObject({ ok: true, cipher: 'ECDHE-RSA-AES128-SHA256' });
    expect((await handshake(t, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' })).ok).toBe(false);
    expect((await handshake(t, { maxVersion: 'TLSv1.2', ciphers: 'DES-CBC3-SHA:@SECLEVEL=0' })).ok).toBe(false);
  });

  it('legacy opt-in admits a TLS 1.0 scanner on a server nobody signs in to', async () => {
    const t = await startTestApp({ server: { access: { requireStrongEncryption: false, allowLegacyTls: true, basicAuth: false, cramMd5: false } } });
    open.push(t);
    expect(await handshake(t, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' })).toMatchObject({ ok: true, protocol: 'TLSv1' });
  });
});

describe('TLS session resumption', () => {
  it('a client that comes back resumes its session (TLS 1.3 and 1.2): a scanner that reconnects skips the full handshake', async () => {
    const t = await startTestApp();
    open.push(t);
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      const first = await RawSmtp.connect(t.port);
      await first.client.command('EHLO client.test');
      await first.client.startTls({ rejectUnauthorized: false, minVersion: version, maxVersion: version });
      await first.client.command('EHLO client.test'); // the TLS 1.3 ticket arrives after the handshake
      const session = (first.client.tlsSocket as tls.TLSSocket).getSession();
      expect((first.client.tlsSocket as tls.TLSSocket).isSessionReused()).toBe(false);
      first.client.close();
      expect(session, version).toBeDefined();
      const again = await RawSmtp.connect(t.port);
      await again.client.command('EHLO client.test');
      await again.client.startTls({ rejectUnauthorized: false, minVersion: version, maxVersion: version, ...(session ? { session } : {}) });
      expect((again.client.tlsSocket as tls.TLSSocket).isSessionReused(), version).toBe(true);
      expect((await again.client.command('EHLO client.test')).code).toBe(250);
      again.client.close();
    }
  });
});

describe('SNI', () => {
  it('answers each name with its certificate, and others with the default', async () => {
    const t = await startTestApp();
    open.push(t);
    const other = await t.app.certificates.create('branch', { commonName: 'mail.branch.example', altNames: ['smtp.branch.example'], key: 'p256' });
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { access: { sniCertificates: ['branch'] } });
    await t.app.engine.reconcile();
    const seen = async (servername: string) => (await handshake(t, { servername })).fingerprint;
    expect(await seen('smtp.branch.example')).toBe(other.fingerprintSha256);
    expect(await seen('mail.branch.example')).toBe(other.fingerprintSha256);
    expect(await seen('localhost')).toBe(new crypto.X509Certificate(t.caPem).fingerprint256);
    expect(() => t.app.store.removeCertificate('branch')).toThrow(/is assigned to/);
  });
});

describe('certificates', () => {
  it('makes a first-start certificate that openssl reads: RSA 2048, SAN with the FQDN and localhost', async () => {
    const t = await startTestApp();
    open.push(t);
    const fqdn = t.app.store.getServer(DEFAULT_SERVER_NAME).fqdn;
    const file = path.join(t.dir, 'cert.pem');
    fs.writeFileSync(file, t.caPem);
    const text = openssl(['x509', '-in', file, '-noout', '-text'], t.dir);
    expect(text).toContain('Public-Key: (2048 bit)');
    expect(text).toMatch(new RegExp(`DNS:${fqdn.replace(/\./g, '\\.')}`));
    expect(text).toContain('DNS:localhost');
    expect(text).toContain('IP Address:127.0.0.1');
    expect(text).toContain('TLS Web Server Authentication');
  });

  it('imports an openssl PEM key and chain, refuses a mismatched key, and switches a running server to it', async () => {
    const t = await startTestApp();
    open.push(t);
    const dir = tempDir();
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '30', '-subj', '/CN=mail.example.com', '-addext', 'subjectAltName=DNS:mail.example.com'], dir);
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-key.pem', '-out', 'other.pem', '-days', '30', '-subj', '/CN=other.example'], dir);
    const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
    expect(() => preparePemImport({ name: 'bad', keyPem: read('other-key.pem'), certPem: read('cert.pem') })).toThrow('the private key does not belong to the certificate');

    const before = t.caPem ? new crypto.X509Certificate(t.caPem).fingerprint256 : '';
    const kept = await RawSmtp.connect(t.port);
    await kept.client.command('EHLO client.test');
    await kept.client.startTls();

    const prepared = preparePemImport({ name: 'mail.example.com', keyPem: read('key.pem'), certPem: read('cert.pem') + read('other.pem') });
    expect(prepared.chainPem).toContain('BEGIN CERTIFICATE');
    t.app.store.addCertificate(prepared);
    t.app.store.updateServer(DEFAULT_SERVER_NAME, { certificate: 'mail.example.com' });
    await t.app.engine.reconcile();

    const after = await eventually(async () => {
      const result = await handshake(t, { servername: 'mail.example.com' });
      return result.fingerprint && result.fingerprint !== before ? result.fingerprint : null;
    });
    expect(after).toBe(new crypto.X509Certificate(read('cert.pem')).fingerprint256);
    // The session opened on the old certificate goes on.
    expect((await kept.client.command('NOOP')).code).toBe(250);
    kept.client.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
