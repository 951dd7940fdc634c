// Certificates: a self-signed certificate for first start (keys from node:crypto, certificate
// built by node-forge), inspection with node:crypto's X509Certificate, and PEM import with the
// checks an admin needs (key matches, validity). Private keys are never logged.
import crypto from 'node:crypto';
import net from 'node:net';
import forge from 'node-forge';
import { AdminError } from '../contract/errors';
import type { NewCertificate } from '../store/store';

export interface SelfSignedOptions {
  commonName: string;
  /** Extra DNS names or IP addresses for the subjectAltName (the common name is always included). */
  altNames?: string[];
  rsaBits?: 2048 | 3072 | 4096;
  days?: number;
  now?: Date;
}

export interface CertificateFacts {
  fingerprintSha256: string;
  subject: string;
  notBefore: string;
  notAfter: string;
}

function generateRsaKey(bits: number): Promise<crypto.KeyObject> {
  return new Promise((resolve, reject) => {
    crypto.generateKeyPair('rsa', { modulusLength: bits }, (err, _publicKey, privateKey) => (err ? reject(err) : resolve(privateKey)));
  });
}

/** A self-signed RSA certificate whose SAN covers the common name and the extra names. */
export async function createSelfSigned(options: SelfSignedOptions): Promise<{ certPem: string; keyPem: string }> {
  const privateKey = await generateRsaKey(options.rsaBits ?? 2048);
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgePrivate = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const forgePublic = forge.pki.setRsaPublicKey(forgePrivate.n, forgePrivate.e);
  const now = options.now ?? new Date();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forgePublic;
  // Positive serial (high bit clear), 16 random bytes as RFC 5280 asks.
  cert.serialNumber = '01' + crypto.randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(now.getTime() + (options.days ?? 825) * 86_400_000);
  const attrs = [{ name: 'commonName', value: options.commonName }, { name: 'organizationName', value: 'Relaydesk self-signed' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  const names = [...new Set([options.commonName, ...(options.altNames ?? [])])];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((n) => (net.isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forgePrivate, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

/** Facts stored beside a certificate, read with node:crypto (never node-forge for verification). */
export function inspectCertificate(certPem: string): CertificateFacts {
  let x509: crypto.X509Certificate;
  try {
    x509 = new crypto.X509Certificate(certPem);
  } catch (err) {
    throw new AdminError('invalid', `not a readable PEM certificate (${(err as Error).message})`, 'certPem');
  }
  return {
    fingerprintSha256: x509.fingerprint256,
    subject: x509.subject.replace(/\n/g, ', '),
    notBefore: new Date(x509.validFrom).toISOString(),
    notAfter: new Date(x509.validTo).toISOString(),
  };
}

/** Split a PEM bundle into its certificates, in order. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? [];
}

/**
 * Validate a PEM private key and certificate chain (leaf first) for storage: the key must match
 * the leaf and the leaf must be valid now (an expired one only with allowExpired).
 */
export function preparePemImport(input: { name: string; keyPem: string; certPem: string; allowExpired?: boolean; now?: Date }): NewCertificate {
  const certificates = splitPemCertificates(input.certPem);
  const leaf = certificates[0];
  if (!leaf) throw new AdminError('invalid', 'the certificate file holds no PEM certificate (-----BEGIN CERTIFICATE-----)', 'certPem');
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(input.keyPem);
  } catch {
    throw new AdminError('invalid', 'the key file holds no readable PEM private key (encrypted keys must be decrypted first)', 'keyPem');
  }
  const x509 = new crypto.X509Certificate(leaf);
  if (!x509.checkPrivateKey(key)) throw new AdminError('invalid', 'the private key does not belong to the certificate', 'keyPem');
  const facts = inspectCertificate(leaf);
  const now = (input.now ?? new Date()).getTime();
  if (Date.parse(facts.notBefore) > now) throw new AdminError('invalid', `the certificate is not valid before ${facts.notBefore}`, 'certPem');
  if (Date.parse(facts.notAfter) < now && !input.allowExpired) {
    throw new AdminError('invalid', `the certificate expired on ${facts.notAfter} (import it anyway with --allow-expired)`, 'certPem');
  }
  return {
    name: input.name,
    certPem: leaf,
    chainPem: certificates.slice(1).join(''),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ...facts,
  };
}

export interface CertificateDescription extends CertificateFacts {
  issuer: string;
  altNames: string[];
  serialNumber: string;
  keyType: string;
  selfSigned: boolean;
}

/** Everything the certificate view shows, read with node:crypto. */
export function describeCertificate(certPem: string): CertificateDescription {
  const x509 = new crypto.X509Certificate(certPem);
  const key = x509.publicKey;
  const details = key.asymmetricKeyDetails;
  const keyType = key.asymmetricKeyType === 'rsa' ? `RSA ${details?.modulusLength ?? '?'}`
    : key.asymmetricKeyType === 'ec' ? `ECDSA ${details?.namedCurve ?? ''}`.trim() : String(key.asymmetricKeyType);
  return {
    ...inspectCertificate(certPem),
    issuer: x509.issuer.replace(/\n/g, ', '),
    altNames: (x509.subjectAltName ?? '').split(', ').filter(Boolean),
    serialNumber: x509.serialNumber,
    keyType,
    selfSigned: x509.issuer === x509.subject && x509.verify(key),
  };
}
