// What is wrong with the certificate a running virtual server presents, in the admin's words:
// it does not cover the server's name, it expires within 30 days (or has), its chain is
// incomplete (clients cannot build a path to a root they trust), or it is self-signed on a
// listener other computers reach. Shown on the server page, the Certificates page and the status bar.
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { CertificateSummary } from '../contract/admin-api';
import type { VirtualServerConfig } from '../contract/settings';

const DAY_MS = 86_400_000;
let roots: crypto.X509Certificate[] | null = null;

/** Does the certificate cover the name? Node's own RFC 6125 check (wildcards, IP addresses). */
export function certificateCovers(certPem: string, name: string): boolean {
  const leaf = new crypto.X509Certificate(certPem);
  return net.isIP(name) ? leaf.checkIP(name) !== undefined : leaf.checkHost(name) !== undefined;
}

function isLoopbackBinding(bindAddress: string): boolean {
  return bindAddress === '::1' || /^127\./.test(bindAddress);
}

/** The issuer of a CA-signed certificate is neither in its chain nor a root Node trusts. */
function chainIncomplete(certPem: string, chainPem: string): boolean {
  const leaf = new crypto.X509Certificate(certPem);
  const chain = (chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new crypto.X509Certificate(pem));
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    if (current.checkIssued(current)) return false; // reached a self-signed root in the chain
    const parent = chain.find((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (!parent) {
      roots ??= tls.rootCertificates.map((pem) => new crypto.X509Certificate(pem));
      return !roots.some((root) => current.checkIssued(root));
    }
    current = parent;
  }
  return true;
}

export function certificateWarnings(server: VirtualServerConfig, certificate: CertificateSummary & { certPem: string; chainPem: string }, now: Date): string[] {
  const warnings: string[] = [];
  if (!certificateCovers(certificate.certPem, server.fqdn)) {
    warnings.push(`${server.name}: its certificate "${certificate.name}" does not cover ${server.fqdn} (it names ${certificate.altNames.join(', ') || 'no host name'}); clients that check names will refuse it. Create or import one for ${server.fqdn} (Certificates).`);
  }
  const daysLeft = Math.floor((Date.parse(certificate.notAfter) - now.getTime()) / DAY_MS);
  if (daysLeft < 0) warnings.push(`${server.name}: its certificate "${certificate.name}" has expired; clients refuse it. Renew it (Certificates → Certificate wizard).`);
  else if (daysLeft < 30) warnings.push(`${server.name}: its certificate "${certificate.name}" expires in ${daysLeft} day(s). Renew it before clients refuse it.`);
  if (!certificate.selfSigned && chainIncomplete(certificate.certPem, certificate.chainPem)) {
    warnings.push(`${server.name}: the chain of "${certificate.name}" is incomplete: its issuer (${certificate.issuer}) is not included. Import the certificate again with the intermediate certificates of your CA.`);
  }
  if (certificate.selfSigned && !isLoopbackBinding(server.bindAddress)) {
    warnings.push(`${server.name}: listens on ${server.bindAddress === 'all' ? 'every address' : server.bindAddress} with the self-signed certificate "${certificate.name}": other computers will not trust it unless each is told to. Use a certificate from your CA or a public one (Certificates).`);
  }
  return warnings;
}
