// The JSON written by server/import/iis-export.ps1 on the old Windows machine (through the IIS
// ADSI provider, IIS://localhost/SmtpSvc/N), where IP security comes back decoded: GrantByDefault
// and the IPGrant/IPDeny ("address, mask") and DomainGrant/DomainDeny lists. Read into the same
// model as MetaBase.xml; a document that does not match is refused with the field at fault.
import { z } from 'zod';
import { type AddressRuleInput, maskToPrefix } from '../contract/settings';
import { fromZodError } from '../contract/errors';
import type { IpSecurityList } from './iis-ip-security';
import { domainKind } from './iis-metabase';
import { IisImportError, type IisServer } from './iis-model';

export const IIS_EXPORT_FORMAT = 'relaydesk-iis-export';

const ipSecuritySchema = z.object({
  grantByDefault: z.boolean(),
  ipGrant: z.array(z.string()).default([]),
  ipDeny: z.array(z.string()).default([]),
  domainGrant: z.array(z.string()).default([]),
  domainDeny: z.array(z.string()).default([]),
}).strict();

const propertyValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]).nullable();

export const iisExportSchema = z.object({
  format: z.literal(IIS_EXPORT_FORMAT),
  version: z.literal(1),
  machine: z.string().optional(),
  servers: z.array(z.object({
    location: z.string().regex(/^\/LM\/SMTPSVC\/\d+$/i, 'must be /LM/SMTPSVC/n'),
    properties: z.record(z.string(), propertyValue),
    connection: ipSecuritySchema.nullable(),
    /** null = the RelayIpList property is not set (absent). */
    relay: ipSecuritySchema.nullable(),
    domains: z.array(z.object({ name: z.string().min(1), routeAction: z.number().int().nullable(), routeActionString: z.string().nullable().default(null) }).strict()).default([]),
  }).strict()).min(1, 'the export holds no SMTP virtual server'),
}).strict();

export function parseIisExport(json: unknown): IisServer[] {
  const parsed = iisExportSchema.safeParse(json);
  if (!parsed.success) throw new IisImportError(`the IIS export is not valid: ${fromZodError(parsed.error).message}`);
  return parsed.data.servers.map((server, i) => {
    const properties = new Map<string, string>();
    for (const [key, value] of Object.entries(server.properties)) {
      if (value === null) continue;
      properties.set(key, Array.isArray(value) ? value.join(key.endsWith('Bindings') ? '\n' : ',') : typeof value === 'boolean' ? (value ? 'TRUE' : 'FALSE') : String(value));
    }
    const list = (security: z.infer<typeof ipSecuritySchema>, what: string): IpSecurityList => {
      const addresses = security.grantByDefault ? security.ipDeny : security.ipGrant;
      const names = security.grantByDefault ? security.domainDeny : security.domainGrant;
      const rules: AddressRuleInput[] = addresses.map((entry, k) => {
        const [address, mask] = entry.split(',').map((part) => part.trim());
        const prefix = mask ? maskToPrefix(mask) : 32;
        if (!address || prefix === null) throw new IisImportError(`servers[${i}].${what}: "${entry}" is not "address, subnet mask" (entry ${k + 1})`);
        return prefix === 32 ? { kind: 'address', address } : { kind: 'subnet', network: address, prefix };
      });
      return { mode: security.grantByDefault ? 'all-except' : 'only-list', rules: [...rules, ...names.map((domain): AddressRuleInput => ({ kind: 'domain', domain }))] };
    };
    return {
      location: server.location,
      properties,
      connectionControl: server.connection ? list(server.connection, 'connection') : null,
      relayList: server.relay ? list(server.relay, 'relay') : 'absent',
      domains: server.domains.map((d) => ({ name: d.name, routeAction: d.routeAction, kind: domainKind(d.routeAction), smartHost: d.routeActionString?.trim() || null })),
    };
  });
}
