// `relaydesk import iis FILE` and the console's "Import from IIS SMTP…": read MetaBase.xml or the
// PowerShell export, plan the import (a preview row per setting), and apply it atomically — every
// virtual server and accepted domain, or nothing — with the same validation as any configuration.
// An open relay or a lock-out in the result must be confirmed, as in the property sheets.
import os from 'node:os';
import { AdminError } from '../contract/errors';
import type { Store } from '../store/store';
import { parseIisExport } from './iis-export-json';
import { type ImportPlan, planImport } from './iis-mapping';
import { parseMetabase } from './iis-metabase';
import { IisImportError, type IisServer } from './iis-model';

/** MetaBase.xml (XML) or the PowerShell export (JSON), by its first character. */
export function readIisSource(content: string): IisServer[] {
  const text = content.replace(/^\uFEFF/, '').trimStart();
  try {
    if (text.startsWith('{')) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new IisImportError(`the file is neither MetaBase.xml nor a valid JSON export: ${(err as Error).message}`);
      }
      return parseIisExport(json);
    }
    if (text.startsWith('<')) return parseMetabase(text);
    throw new IisImportError('the file is neither MetaBase.xml (XML) nor the JSON of iis-export.ps1');
  } catch (err) {
    if (err instanceof IisImportError) throw new AdminError('invalid', err.message, 'file');
    throw err;
  }
}

export function planIisImport(store: Store, content: string): ImportPlan {
  const servers = readIisSource(content);
  const certificate = store.listServers().map((s) => s.certificate).find((c): c is string => c !== null) ?? store.listCertificates()[0]?.name ?? null;
  try {
    return planImport(servers, {
      existingServers: store.listServers().map((s) => s.name), existingDomains: store.listAcceptedDomains().map((d) => d.domain),
      certificate, platform: process.platform, hostname: os.hostname().toLowerCase(),
    });
  } catch (err) {
    if (err instanceof IisImportError) throw new AdminError('invalid', err.message, 'file');
    throw err;
  }
}

/** Apply a plan: all servers and domains in one transaction, or nothing. */
export function applyIisImport(store: Store, content: string, options: { confirmRisks: boolean }): { plan: ImportPlan; created: string[] } {
  const plan = planIisImport(store, content);
  const risky = plan.servers.filter((s) => s.risk);
  if (risky.length > 0 && !options.confirmRisks) {
    throw new AdminError('conflict', risky.map((s) => `${s.config.name}: ${s.risk?.title}. ${s.risk?.why}`).join(' ') + ' Confirm to import anyway (--yes), or change it in IIS first.', 'confirmRisks');
  }
  store.transaction(() => {
    for (const server of plan.servers) store.createServer(server.config);
    for (const domain of plan.acceptedDomains) store.addAcceptedDomain(domain);
  });
  return { plan, created: plan.servers.map((s) => s.config.name) };
}
