// TLS settings for a virtual server, set explicitly (smtp-server's stock settings allow TLS 1.0
// and ship an expired test certificate). "Require strong encryption": TLS 1.2+ with AEAD ciphers
// of 128 bits or more and forward secrecy. Off: TLS 1.2+ with Node's defaults. Legacy TLS 1.0/1.1
// only when the admin opts in, and never together with strong encryption.
import type { SecureVersion } from 'node:tls';
import crypto from 'node:crypto';
import tls from 'node:tls';
import { type AccessSettings, legacyTlsAllowed } from '../contract/settings';

export const STRONG_CIPHERS = [
  'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

const EXCLUDED = '!aNULL:!eNULL:!EXPORT:!RC4:!3DES:!DES:!MD5:!PSK:!SRP:!CAMELLIA:!SEED:!IDEA';

export interface TlsMaterial { keyPem: string; certPem: string; chainPem: string }

export interface TlsServerOptions {
  key: string;
  cert: string;
  minVersion: SecureVersion;
  ciphers: string;
  honorCipherOrder: boolean;
}

/** SNI: for each DNS name of each extra certificate, the TLS options to use when a client asks for it. */
export function buildSniOptions(access: AccessSettings, extra: ReadonlyArray<TlsMaterial>): Record<string, TlsServerOptions> {
  const options: Record<string, TlsServerOptions> = {};
  for (const material of extra) {
    const x509 = new crypto.X509Certificate(material.certPem);
    const names = (x509.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4).toLowerCase());
    for (const name of names) options[name] ??= buildTlsOptions(access, material);
  }
  return options;
}

export function buildTlsOptions(access: AccessSettings, material: TlsMaterial): TlsServerOptions {
  const legacy = legacyTlsAllowed(access);
  let ciphers: string;
  if (access.requireStrongEncryption) ciphers = STRONG_CIPHERS;
  else if (legacy) ciphers = `${tls.DEFAULT_CIPHERS}:${EXCLUDED}:@SECLEVEL=0`; // OpenSSL 3 refuses TLS 1.0/1.1 above level 0
  else ciphers = `${tls.DEFAULT_CIPHERS}:${EXCLUDED}`;
  return {
    key: material.keyPem,
    cert: material.certPem + material.chainPem,
    minVersion: legacy ? 'TLSv1' : 'TLSv1.2',
    ciphers,
    honorCipherOrder: true,
  };
}

/** Key strength of a negotiated cipher (OpenSSL name), for the policy and the live log. */
export function cipherBits(name: string): number {
  if (/AES_?256|CHACHA20/i.test(name)) return 256;
  if (/AES_?128|CAMELLIA128|SEED/i.test(name)) return 128;
  if (/3DES|DES-CBC3/i.test(name)) return 112;
  if (/RC4/i.test(name)) return 128;
  if (/EXP|NULL/i.test(name)) return 0;
  return 56;
}
