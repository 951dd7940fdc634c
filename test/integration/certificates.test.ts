// The certificate paths from the CLI, with OpenSSL (Debian) checking what we make and playing the
// CA: self-signed RSA and ECDSA, a request signed by a test CA completed (PEM and PKCS#7), a
// mismatched answer refused, PFX import (modern and -legacy) and export, and expiry warnings.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../server/app';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { cli, preparedDataDir } from '../helpers/serve-process';
import { tempDir } from '../helpers/test-app';

let dir: string;
let work: string;
const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const file = (name: string) => path.join(work, name);

beforeAll(async () => {
  dir = await preparedDataDir();
  work = tempDir('relaydesk-certs-');
  // A test CA with an intermediate, as a public CA would answer.
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '30', '-subj', '/CN=Test Root CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=Test Intermediate CA']);
  fs.writeFileSync(file('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  openssl(['x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'int.pem', '-days', '30', '-extfile', 'ca.ext']);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describe('relaydesk cert', () => {
  it.each([['rsa3072', 'Public-Key: (3072 bit)'], ['p384', 'NIST CURVE: P-384']])('creates a self-signed %s certificate that openssl reads', async (type, expected) => {
    const result = await cli(['cert', 'create', `self-${type}`, '--cn', 'mail.example.com', '--san', 'smtp.example.com', '--san', '192.168.1.10', '--type', type, '--days', '90', '--data', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('chain: 1 certificate(s), in order, complete to its root');
    fs.writeFileSync(file(`${type}.pem`), (await cli(['cert', 'export', `self-${type}`, '--data', dir])).stdout);
    const text = openssl(['x509', '-in', `${type}.pem`, '-noout', '-text']);
    expect(text).toContain(expected);
    expect(text).toMatch(/DNS:mail\.example\.com, DNS:smtp\.example\.com, IP Address:192\.168\.1\.10/);
    expect(text).toContain('TLS Web Server Authentication');
  });

  it('makes a request openssl verifies, completes it with the CA\'s PEM chain, and refuses a mismatched answer', async () => {
    expect((await cli(['cert', 'request', 'corp', '--cn', 'smtp.corp.example', '--san', 'mail.corp.example', '--out', file('corp.csr'), '--data', dir])).code).toBe(0);
    expect(openssl(['req', '-in', 'corp.csr', '-noout', '-text'])).toContain('DNS:smtp.corp.example, DNS:mail.corp.example');
    execFileSync('openssl', ['req', '-in', 'corp.csr', '-noout', '-verify'], { cwd: work, stdio: 'pipe' });
    expect((await cli(['cert', 'requests', '--data', dir])).stdout).toMatch(/^corp\tsmtp\.corp\.example \(mail\.corp\.example\)\trsa2048/);

    // An answer for another key is refused and the request stays pending.
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.csr', '-subj', '/CN=smtp.corp.example']);
    fs.writeFileSync(file('san.ext'), 'subjectAltName=DNS:smtp.corp.example,DNS:mail.corp.example\nextendedKeyUsage=serverAuth\n');
    openssl(['x509', '-req', '-in', 'other.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-out', 'other.pem', '-days', '20', '-extfile', 'san.ext']);
    const wrong = await cli(['cert', 'complete', 'corp', '--cert', file('other.pem'), '--data', dir]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("no certificate in the answer belongs to the pending request's key");

    openssl(['x509', '-req', '-in', 'corp.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-out', 'corp.pem', '-days', '20', '-extfile', 'san.ext']);
    // The CA sends root, intermediate and leaf in any order: we put them in TLS order.
    fs.writeFileSync(file('answer.pem'), fs.readFileSync(file('root.pem'), 'utf8') + fs.readFileSync(file('corp.pem'), 'utf8') + fs.readFileSync(file('int.pem'), 'utf8'));
    const done = await cli(['cert', 'complete', 'corp', '--cert', file('answer.pem'), '--assign', DEFAULT_SERVER_NAME, '--data', dir]);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('issuer: CN=Test Intermediate CA');
    expect(done.stdout).toContain('chain: 3 certificate(s), in order, complete to its root');
    expect((await cli(['cert', 'requests', '--data', dir])).stdout).toContain('No pending certificate requests.');
    fs.writeFileSync(file('full.pem'), (await cli(['cert', 'export', 'corp', '--full', '--data', dir])).stdout);
    expect(openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'int.pem', 'corp.pem']).trim()).toBe('corp.pem: OK');
    expect((await cli(['cert', 'list', '--data', dir])).stdout).toMatch(/corp\tCN=smtp\.corp\.example\tRSA 2048\tvalid until .*\(19 days\)\tDefault SMTP virtual server\s+expires within 30 days/);
  });

  it('completes a request with a PKCS#7 answer', async () => {
    await cli(['cert', 'request', 'p7', '--cn', 'p7.example', '--out', file('p7.csr'), '--data', dir]);
    openssl(['x509', '-req', '-in', 'p7.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-out', 'p7.pem', '-days', '20']);
    openssl(['crl2pkcs7', '-nocrl', '-certfile', 'p7.pem', '-certfile', 'int.pem', '-out', 'p7.p7b']);
    const done = await cli(['cert', 'complete', 'p7', '--cert', file('p7.p7b'), '--data', dir]);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('chain: 2 certificate(s), in order, root not included');
  });

  it.each([['modern', []], ['legacy RC2-40', ['-legacy']]])('imports a %s PFX, and names a wrong password', async (kind, flags) => {
    const name = `pfx-${kind.split(' ')[0]}`;
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '60', '-subj', '/CN=pfx.example']);
    openssl(['pkcs12', '-export', ...flags, '-in', `${name}.pem`, '-inkey', `${name}.key`, '-certfile', 'int.pem', '-out', `${name}.pfx`, '-passout', 'pass:pfx-secret']);
    const wrong = await cli(['cert', 'import', name, '--pfx', file(`${name}.pfx`), '--password-stdin', '--data', dir], 'not-it\n');
    expect(wrong).toMatchObject({ code: 1, stderr: 'relaydesk: wrong password for this PFX file\n' });
    const ok = await cli(['cert', 'import', name, '--pfx', file(`${name}.pfx`), '--password-stdin', '--data', dir], 'pfx-secret\n');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('CN=pfx.example');
  });

  it('exports a PFX that openssl opens with the chosen password, and never prints keys by accident', async () => {
    const out = file('export.pfx');
    expect((await cli(['cert', 'export', 'corp', '--pfx', out, '--password-stdin', '--data', dir], 'export-secret\n')).code).toBe(0);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const certs = openssl(['pkcs12', '-in', out, '-passin', 'pass:export-secret', '-nokeys']);
    expect(certs.match(/BEGIN CERTIFICATE/g)).toHaveLength(3);
    expect(openssl(['pkcs12', '-in', out, '-passin', 'pass:export-secret', '-nocerts', '-nodes'])).toContain('PRIVATE KEY');
    expect((await cli(['cert', 'export', 'corp', '--data', dir])).stdout).not.toContain('PRIVATE KEY');
    expect((await cli(['cert', 'export', 'corp', '--private-key', '--data', dir])).stdout).toContain('PRIVATE KEY');
  });

  it('refuses an expired or not yet valid certificate, unless told to import an expired one', async () => {
    const { createSelfSignedCertificate } = await import('../../server/tls/certificate-tools');
    for (const [label, now, days] of [['expired', new Date(Date.now() - 400 * 86_400_000), 30], ['future', new Date(Date.now() + 10 * 86_400_000), 30]] as const) {
      const m = await createSelfSignedCertificate({ commonName: `${label}.example`, now, days });
      fs.writeFileSync(file(`${label}.crt`), m.certPem);
      fs.writeFileSync(file(`${label}.key`), m.keyPem);
    }
    const expired = await cli(['cert', 'import', 'old', '--key', file('expired.key'), '--cert', file('expired.crt'), '--data', dir]);
    expect(expired.code).toBe(1);
    expect(expired.stderr).toMatch(/the certificate expired on \S+ \(import it anyway with --allow-expired\)/);
    expect((await cli(['cert', 'import', 'future', '--key', file('future.key'), '--cert', file('future.crt'), '--data', dir])).stderr).toMatch(/the certificate is not valid before /);
    expect((await cli(['cert', 'list', '--data', dir])).stdout).not.toMatch(/^(old|future)\t/m);
    const forced = await cli(['cert', 'import', 'old', '--key', file('expired.key'), '--cert', file('expired.crt'), '--allow-expired', '--data', dir]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/expired \d+ day\(s\) ago/);
    await cli(['cert', 'remove', 'old', '--data', dir]);
  });

  it('refuses to remove a certificate in use, and warns about expiry as log events', async () => {
    const removal = await cli(['cert', 'remove', 'corp', '--data', dir]);
    expect(removal.stderr).toContain('is assigned to "Default SMTP virtual server"; assign another first');
    const app = new App({ dataDir: dir, firstStartPort: 0 });
    const warnings: string[] = [];
    app.bus.subscribe((e) => { if (e.type === 'warning') warnings.push(e.message); });
    await app.start();
    await app.stop(10);
    expect(warnings).toContain('certificate "corp" (used by Default SMTP virtual server) expires in 19 day(s)');
  });
});
