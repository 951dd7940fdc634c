// The certificate libraries (@peculiar/x509, node-forge: about 17 MiB resident) load on first
// use — creating, requesting, importing, exporting or checking a certificate — not with every
// `serve`.
import type * as CertificateTools from './certificate-tools';

export type { CertificateTools };
export type KeySpec = 'rsa2048' | 'rsa3072' | 'rsa4096' | 'p256' | 'p384';
export const KEY_SPECS: readonly KeySpec[] = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384'];

export function loadCertificateTools(): Promise<typeof CertificateTools> {
  return import('./certificate-tools');
}
