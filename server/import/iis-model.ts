// What Relaydesk reads of an IIS 6 SMTP service, whichever way it came (MetaBase.xml, or the JSON
// of server/import/iis-export.ps1): per virtual server its properties by their metabase names, its IP
// security lists (already decoded, or as the hex of MetaBase.xml), and the domains under it.
import type { IpSecurityList } from './iis-ip-security';

/** A property as IIS stores it: text (numbers and flags as in MetaBase.xml), or a decoded list. */
export type IisValue = string;

export interface IisDomain {
  name: string;
  /** RouteAction flags (metabase); see ROUTE_ACTION in iis-metabase.ts. */
  routeAction: number | null;
  /** IIsSmtpDomain type: local default, local alias, remote, or unknown (no RouteAction). */
  kind: 'local' | 'alias' | 'remote' | 'unknown';
  /** A remote domain's smart host (RouteActionString). */
  smartHost: string | null;
}

export interface IisServer {
  /** "/LM/SMTPSVC/1" */
  location: string;
  /** Metabase properties by name (ServerComment, ServerBindings, …), the service node's inherited under them. */
  properties: Map<string, IisValue>;
  connectionControl: IpSecurityList | { hex: string } | null;
  relayList: IpSecurityList | { hex: string } | null | 'absent';
  domains: IisDomain[];
}

export class IisImportError extends Error {}
