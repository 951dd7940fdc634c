// What the Certificate wizard needs beyond PEM import: new keys (RSA 2048/3072/4096, ECDSA
// P-256/P-384) from node:crypto, self-signed certificates and certificate requests built with
// @peculiar/x509 (node-forge cannot sign with ECDSA keys), completing a request with the CA's
// answer (PEM chain or PKCS#7), PKCS#12/PFX import (node-forge reads the legacy RC2-40 files
// Node's TLS refuses) and export, and a chain check. Verification always uses node:crypto.
// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs this polyfill.
import 'reflect-metadata';
import crypto, { type webcrypto } from 'node:crypto';
import net from 'node:net';
import * as x509 from '@peculiar/x509';
import forge from 'node-forge';
import { AdminError } from '../contract/errors';
import type { NewCertificate } from '../store/store';
import { inspectCertificate, splitPemCertificates } from './certificates';

x509.cryptoProvider.set(crypto.webcrypto as never);

type KeyAlgorithm = webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams;

import type { KeySpec } from './load-certificate-tools';
export { KEY_SPECS, type KeySpec } from './load-certificate-tools';

function algorithmOf(spec: KeySpec): KeyAlgorithm {
  switch (spec) {
    case 'rsa2048': case 'rsa3072': case 'rsa4096':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: Number(spec.slice(3)) } as webcrypto.RsaHashedKeyGenParams;
    case 'p256': return { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as webcrypto.EcKeyGenParams;
    case 'p384': return { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' } as webcrypto.EcKeyGenParams;
  }
}

async function newKeys(spec: KeySpec): Promise<{ keys: webcrypto.CryptoKeyPair; keyPem: string; algorithm: KeyAlgorithm }> {
  const algorithm = algorithmOf(spec);
  const keys = await crypto.webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await crypto.webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { keys, keyPem, algorithm };
}

function subjectName(commonName: string): string {
  if (!/^[\w.*-]{1,253}$/.test(commonName)) throw new AdminError('invalid', 'the common name must be a host name such as mail.example.com', 'commonName');
  return `CN=${commonName}`;
}

function altNameExtension(names: readonly string[]): x509.SubjectAlternativeNameExtension {
  return new x509.SubjectAlternativeNameExtension(names.map((n) => (net.isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n })));
}

export interface CertificateSpec {
  commonName: string;
  /** More DNS names or IP addresses; the common name is always included. */
  altNames?: readonly string[];
  key?: KeySpec;
  days?: number;
  now?: Date;
}

/** A self-signed server certificate; its subjectAltName covers the common name and the extra names. */
export async function createSelfSignedCertificate(spec: CertificateSpec): Promise<{ certPem: string; keyPem: string }> {
  const { keys, keyPem, algorithm } = await newKeys(spec.key ?? 'rsa2048');
  const now = spec.now ?? new Date();
  const names = [...new Set([spec.commonName, ...(spec.altNames ?? [])])];
  const name = subjectName(spec.commonName);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${crypto.randomBytes(15).toString('hex')}`,
    name,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + (spec.days ?? 825) * 86_400_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      altNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem };
}

/** A new key and a PKCS#10 request (PEM) for an external CA. */
export async function createCertificateRequest(spec: Omit<CertificateSpec, 'days' | 'now'>): Promise<{ csrPem: string; keyPem: string }> {
  const { keys, keyPem, algorithm } = await newKeys(spec.key ?? 'rsa2048');
  const names = [...new Set([spec.commonName, ...(spec.altNames ?? [])])];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(spec.commonName), keys, signingAlgorithm: algorithm,
    extensions: [altNameExtension(names), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true)],
  });
  return { csrPem: csr.toString('pem'), keyPem };
}

/** The certificates of a CA's answer: PEM certificates, or PKCS#7 (PEM or DER), in any order. */
export function certificatesFromAnswer(answer: Buffer | string): string[] {
  const text = Buffer.isBuffer(answer) ? answer.toString('latin1') : answer;
  const pem = splitPemCertificates(text);
  if (pem.length > 0) return pem;
  let der: string;
  const pkcs7Pem = /-----BEGIN PKCS7-----([\s\S]+?)-----END PKCS7-----/.exec(text);
  if (pkcs7Pem) der = forge.util.decode64(pkcs7Pem[1]?.replace(/\s+/g, '') ?? '');
  else der = Buffer.isBuffer(answer) ? answer.toString('binary') : text;
  try {
    const message = forge.pkcs7.messageFromAsn1(forge.asn1.fromDer(der)) as { certificates?: forge.pki.Certificate[] };
    return (message.certificates ?? []).map((c) => forge.pki.certificateToPem(c));
  } catch {
    throw new AdminError('invalid', 'the answer holds no certificate (expected PEM certificates or PKCS#7)', 'certPem');
  }
}

/** Leaf first, then each issuer in turn: the order TLS clients expect. */
export function orderChain(certificates: readonly string[], keyPem: string): { leaf: string; chain: string[] } {
  const parsed = certificates.map((pem) => ({ pem, x509: new crypto.X509Certificate(pem) }));
  const key = crypto.createPrivateKey(keyPem);
  const leaf = parsed.find((c) => c.x509.checkPrivateKey(key));
  if (!leaf) throw new AdminError('invalid', 'no certificate in the answer belongs to the pending request\'s key (was it made for another request?)', 'certPem');
  const chain: string[] = [];
  let current = leaf.x509;
  const rest = parsed.filter((c) => c !== leaf);
  for (;;) {
    const issuer = rest.find((c) => !chain.includes(c.pem) && current.checkIssued(c.x509) && c.x509.fingerprint256 !== current.fingerprint256);
    if (!issuer) break;
    chain.push(issuer.pem);
    current = issuer.x509;
  }
  return { leaf: leaf.pem, chain };
}

export interface ChainReport { ordered: boolean; complete: boolean; coversFqdn: boolean | null; problems: string[] }

/** Is the chain in order and complete up to a self-signed root, and do the names cover the FQDN? */
export function checkChain(certPem: string, chainPem: string, fqdn: string | null): ChainReport {
  const all = [certPem, ...splitPemCertificates(chainPem)].map((pem) => new crypto.X509Certificate(pem));
  const problems: string[] = [];
  let ordered = true;
  for (let i = 0; i + 1 < all.length; i++) {
    if (!(all[i] as crypto.X509Certificate).checkIssued(all[i + 1] as crypto.X509Certificate)) {
      ordered = false;
      problems.push(`certificate ${i + 2} of the chain did not issue certificate ${i + 1}`);
    }
  }
  const last = all[all.length - 1] as crypto.X509Certificate;
  // checkIssued() also demands keyCertSign, which a self-signed server certificate rightly lacks.
  const complete = last.issuer === last.subject && last.verify(last.publicKey);
  if (!complete) problems.push(`the chain ends before its root: "${last.issuer.replace(/\n/g, ', ')}" is not included (most clients only need the intermediates)`);
  const leaf = all[0] as crypto.X509Certificate;
  const coversFqdn = fqdn ? leaf.checkHost(fqdn) !== undefined : null;
  if (coversFqdn === false) problems.push(`the certificate's names do not cover ${fqdn}`);
  return { ordered, complete, coversFqdn, problems };
}

function derOf(asn1: forge.asn1.Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(foldBitStrings(asn1)).getBytes(), 'binary');
}

/**
 * forge decodes a BIT STRING whose content happens to be DER (an ECDSA signature) into children
 * and then cannot encode it again; fold such BIT STRINGs back into their bytes.
 */
function foldBitStrings(node: forge.asn1.Asn1): forge.asn1.Asn1 {
  if (!Array.isArray(node.value)) return node;
  const children = node.value.map(foldBitStrings);
  if (node.type === forge.asn1.Type.BITSTRING && node.tagClass === forge.asn1.Class.UNIVERSAL) {
    const content = children.map((child) => forge.asn1.toDer(child).getBytes()).join('');
    return forge.asn1.create(node.tagClass, node.type, false, `\u0000${content}`);
  }
  return { ...node, value: children };
}

/** Read a PKCS#12/PFX file (modern or legacy RC2-40) into a key and a chain, checked like a PEM import. */
export function readPfx(pfx: Buffer, password: string): { keyPem: string; certificates: string[] } {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(pfx.toString('binary')), password);
  } catch (err) {
    const message = (err as Error).message;
    if (/MAC could not be verified|Invalid password/i.test(message)) throw new AdminError('invalid', 'wrong password for this PFX file', 'password');
    throw new AdminError('invalid', `not a readable PKCS#12/PFX file (${message})`, 'pfx');
  }
  const bagsOf = (type: string) => (p12.getBags({ bagType: type })[type] ?? []) as Array<{ key?: forge.pki.PrivateKey; cert?: forge.pki.Certificate; asn1?: forge.asn1.Asn1 }>;
  const keyBags = [...bagsOf(forge.pki.oids.pkcs8ShroudedKeyBag as string), ...bagsOf(forge.pki.oids.keyBag as string)];
  const certBags = bagsOf(forge.pki.oids.certBag as string);
  const keyBag = keyBags[0];
  if (!keyBag) throw new AdminError('invalid', 'the PFX file holds no private key (export it from Windows with "Yes, export the private key")', 'pfx');
  // node:crypto parses RSA and ECDSA alike; forge's own key objects exist for RSA only.
  const keyDer = keyBag.key ? derOf(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyBag.key as forge.pki.rsa.PrivateKey))) : keyBag.asn1 ? derOf(keyBag.asn1) : null;
  if (!keyDer) throw new AdminError('invalid', 'the private key in the PFX file could not be read', 'pfx');
  const keyPem = crypto.createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  const certificates = certBags.map((bag) => {
    if (bag.cert) return forge.pki.certificateToPem(bag.cert);
    // forge could not make a certificate object (an ECDSA key): the bag still holds its ASN.1.
    if (!bag.asn1) throw new AdminError('invalid', 'a certificate in the PFX file could not be read', 'pfx');
    return new crypto.X509Certificate(derOf(bag.asn1)).toString();
  });
  if (certificates.length === 0) throw new AdminError('invalid', 'the PFX file holds no certificate', 'pfx');
  return { keyPem, certificates };
}

/** Prepare a PFX import for the store: leaf matching the key first, chain ordered, validity checked. */
export function preparePfxImport(input: { name: string; pfx: Buffer; password: string; allowExpired?: boolean; now?: Date }): NewCertificate {
  const { keyPem, certificates } = readPfx(input.pfx, input.password);
  const { leaf, chain } = orderChain(certificates, keyPem);
  const facts = inspectCertificate(leaf);
  const now = (input.now ?? new Date()).getTime();
  if (Date.parse(facts.notBefore) > now) throw new AdminError('invalid', `the certificate is not valid before ${facts.notBefore}`, 'pfx');
  if (Date.parse(facts.notAfter) < now && !input.allowExpired) throw new AdminError('invalid', `the certificate expired on ${facts.notAfter} (import it anyway with --allow-expired)`, 'pfx');
  return { name: input.name, certPem: leaf, chainPem: chain.join(''), keyPem, ...facts };
}

/** A PFX file (AES-256, SHA-256 MAC) with the key and chain, protected by the admin's password. RSA keys only. */
export function exportPfx(keyPem: string, certPem: string, chainPem: string, password: string): Buffer {
  const key = crypto.createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== 'rsa') throw new AdminError('invalid', 'PFX export is available for RSA keys; export the certificate and key as PEM instead', 'format');
  const forgeKey = forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }).toString());
  const chain = [certPem, ...splitPemCertificates(chainPem)].map((pem) => forge.pki.certificateFromPem(pem));
  const asn1 = forge.pkcs12.toPkcs12Asn1(forgeKey, chain, password, { algorithm: 'aes256', useMac: true, generateLocalKeyId: true, friendlyName: 'Relaydesk' });
  return derOf(asn1);
}
