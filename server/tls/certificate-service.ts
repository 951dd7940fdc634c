// Certificate operations as the CLI and the AdminApi offer them: create, request and complete,
// import (PEM, PFX), export, assign, inspect, remove, and expiry warnings. Every failure is an
// AdminError that says what to do; nothing is stored unless everything checked out.
import type { Store, StoredCertificate } from '../store/store';
import { AdminError } from '../contract/errors';
import { describeCertificate, type CertificateDescription, inspectCertificate, preparePemImport } from './certificates';
import type { ChainReport } from './certificate-tools';
import { KEY_SPECS, type KeySpec, loadCertificateTools } from './load-certificate-tools';

export const EXPIRY_WARNING_DAYS = [30, 7, 0] as const;

export interface CertificateDetails extends CertificateDescription {
  name: string;
  chainLength: number;
  chain: ChainReport;
  daysLeft: number;
  assignedTo: string[];
}

export function parseKeySpec(value: string | undefined): KeySpec {
  const spec = (value ?? 'rsa2048').toLowerCase().replace(/[^a-z0-9]/g, '') as KeySpec;
  if (!KEY_SPECS.includes(spec)) throw new AdminError('invalid', `key type must be one of ${KEY_SPECS.join(', ')}`, 'key');
  return spec;
}

export class CertificateService {
  constructor(private readonly store: Store, private readonly now: () => Date) {}

  private assign(name: string, server: string | undefined): void {
    if (server) this.store.updateServer(server, { certificate: name });
  }

  async create(name: string, spec: { commonName: string; altNames?: string[]; key?: KeySpec; days?: number }, assignTo?: string): Promise<CertificateDetails> {
    const material = await (await loadCertificateTools()).createSelfSignedCertificate({ ...spec, now: this.now() });
    this.store.transaction(() => {
      this.store.addCertificate({ name, certPem: material.certPem, chainPem: '', keyPem: material.keyPem, ...inspectCertificate(material.certPem) });
      this.assign(name, assignTo);
    });
    return this.show(name);
  }

  async request(name: string, spec: { commonName: string; altNames?: string[]; key?: KeySpec }): Promise<string> {
    const { csrPem, keyPem } = await (await loadCertificateTools()).createCertificateRequest(spec);
    this.store.addCertificateRequest({ name, commonName: spec.commonName, altNames: spec.altNames ?? [], keySpec: spec.key ?? 'rsa2048', keyPem, csrPem });
    return csrPem;
  }

  /** Complete a pending request with the CA's answer; the answer must match the request's key. */
  async complete(name: string, answer: Buffer | string, options: { assignTo?: string; allowExpired?: boolean } = {}): Promise<CertificateDetails> {
    const tools = await loadCertificateTools();
    const request = this.store.findCertificateRequest(name);
    if (!request) throw new AdminError('not-found', `no pending request named "${name}" (see cert requests)`, 'name');
    const { leaf, chain } = tools.orderChain(tools.certificatesFromAnswer(answer), request.keyPem);
    const prepared = preparePemImport({ name, keyPem: request.keyPem, certPem: leaf + chain.join(''), allowExpired: options.allowExpired, now: this.now() });
    this.store.transaction(() => {
      this.store.addCertificate(prepared);
      this.store.removeCertificateRequest(name);
      this.assign(name, options.assignTo);
    });
    return this.show(name);
  }

  async importPem(name: string, keyPem: string, certPem: string, options: { assignTo?: string; allowExpired?: boolean } = {}): Promise<CertificateDetails> {
    const tools = await loadCertificateTools();
    const { leaf, chain } = tools.orderChain(tools.certificatesFromAnswer(certPem), keyPem);
    const prepared = preparePemImport({ name, keyPem, certPem: leaf + chain.join(''), allowExpired: options.allowExpired, now: this.now() });
    this.store.transaction(() => {
      this.store.addCertificate(prepared);
      this.assign(name, options.assignTo);
    });
    return this.show(name);
  }

  async importPfx(name: string, pfx: Buffer, password: string, options: { assignTo?: string; allowExpired?: boolean } = {}): Promise<CertificateDetails> {
    const tools = await loadCertificateTools();
    const prepared = tools.preparePfxImport({ name, pfx, password, allowExpired: options.allowExpired, now: this.now() });
    this.store.transaction(() => {
      this.store.addCertificate(prepared);
      this.assign(name, options.assignTo);
    });
    return this.show(name);
  }

  private stored(name: string): StoredCertificate {
    const certificate = this.store.findCertificate(name);
    if (!certificate) throw new AdminError('not-found', `no certificate named "${name}"`, 'name');
    return certificate;
  }

  exportPem(name: string, what: 'certificate' | 'chain' | 'full'): string {
    const c = this.stored(name);
    return what === 'certificate' ? c.certPem : what === 'chain' ? c.chainPem : c.certPem + c.chainPem;
  }

  exportKeyPem(name: string): string {
    return this.stored(name).keyPem;
  }

  async exportPfx(name: string, password: string): Promise<Buffer> {
    const tools = await loadCertificateTools();
    if (password.length < 8) throw new AdminError('invalid', 'choose a PFX password of at least 8 characters', 'password');
    const c = this.stored(name);
    return tools.exportPfx(c.keyPem, c.certPem, c.chainPem, password);
  }

  async show(name: string): Promise<CertificateDetails> {
    const tools = await loadCertificateTools();
    const c = this.stored(name);
    const servers = this.store.listServers().filter((s) => s.certificate === name);
    const description = describeCertificate(c.certPem);
    return {
      name, ...description,
      chainLength: 1 + (c.chainPem.match(/BEGIN CERTIFICATE/g)?.length ?? 0),
      chain: tools.checkChain(c.certPem, c.chainPem, servers[0]?.fqdn ?? null),
      daysLeft: Math.floor((Date.parse(description.notAfter) - this.now().getTime()) / 86_400_000),
      assignedTo: servers.map((s) => s.name),
    };
  }

  async list(): Promise<CertificateDetails[]> {
    return Promise.all(this.store.listCertificates().map((c) => this.show(c.name)));
  }

  /** Certificates in use that expire within 30 or 7 days, or have expired. */
  expiryWarnings(): string[] {
    // Only dates and assignments: no chain check, so a start of `serve` does not load the certificate libraries.
    const servers = this.store.listServers();
    const certificates = this.store.listCertificates().map((c) => ({
      name: c.name,
      daysLeft: Math.floor((Date.parse(describeCertificate(c.certPem).notAfter) - this.now().getTime()) / 86_400_000),
      assignedTo: servers.filter((s) => s.certificate === c.name || s.access.sniCertificates.includes(c.name)).map((s) => s.name),
    }));
    return certificates.filter((c) => c.assignedTo.length > 0 && c.daysLeft <= EXPIRY_WARNING_DAYS[0]).map((c) => (c.daysLeft < 0
      ? `certificate "${c.name}" (used by ${c.assignedTo.join(', ')}) expired ${-c.daysLeft} day(s) ago`
      : `certificate "${c.name}" (used by ${c.assignedTo.join(', ')}) expires in ${c.daysLeft} day(s)${c.daysLeft <= EXPIRY_WARNING_DAYS[1] ? ' — renew it now' : ''}`));
  }
}
