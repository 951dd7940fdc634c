// Certificates: inspection with node:crypto's X509Certificate and PEM import with the checks an
// admin needs (key matches, validity). Creation, requests and PFX live in certificate-tools.ts.
// Private keys are never logged.
import crypto from 'node:crypto';
import { AdminError } from '../contract/errors';
import type { NewCertificate } from '../store/store';

export interface CertificateFacts {
  fingerprintSha256: string;
  subject: string;
  notBefore: string;
  notAfter: string;
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
