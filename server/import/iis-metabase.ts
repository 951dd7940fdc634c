// Reading an IIS 6 metabase (%windir%\System32\inetsrv\MetaBase.xml) for its SMTP service: the
// IIsSmtpService node (/LM/SMTPSVC, whose properties every virtual server inherits), each
// IIsSmtpServer (/LM/SMTPSVC/n) and the IIsSmtpDomain nodes under it (/LM/SMTPSVC/n/Domain/NAME).
// Properties are XML attributes, or <Custom Name=… Value=…> children for IDs without a name.
// A file that is not well-formed XML is refused with its line and column; nothing is guessed.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { decodeIpSecurity, IpSecurityError } from './iis-ip-security';
import { type IisDomain, IisImportError, type IisServer } from './iis-model';

type XmlNode = Record<string, unknown>;

const SERVICE = /^\/LM\/SMTPSVC$/i;
const SERVER = /^\/LM\/SMTPSVC\/(\d+)$/i;
const DOMAIN = /^\/LM\/SMTPSVC\/(\d+)\/Domain\/([^/]+)$/i;

/** Attribute names kept by the parser are prefixed so they never clash with child elements. */
const ATTR = '@_';

export function parseMetabase(xml: string): IisServer[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new IisImportError(`MetaBase.xml is not well-formed XML (line ${valid.err.line}, column ${valid.err.col}): ${valid.err.msg}`);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: ATTR, parseAttributeValue: false, parseTagValue: false, trimValues: false, isArray: () => true });
  const doc = parser.parse(xml) as XmlNode;
  const nodes: Array<{ type: string; node: XmlNode }> = [];
  collect(doc, nodes);
  const service = nodes.find((n) => n.type === 'IIsSmtpService' && SERVICE.test(location(n.node)));
  const inherited = service ? properties(service.node) : new Map<string, string>();
  const servers = nodes.filter((n) => n.type === 'IIsSmtpServer' && SERVER.test(location(n.node)));
  if (servers.length === 0) throw new IisImportError('MetaBase.xml holds no SMTP virtual server (no IIsSmtpServer node under /LM/SMTPSVC): is the SMTP service installed on that machine?');
  return servers.map(({ node }) => {
    const loc = location(node);
    const own = properties(node);
    const merged = new Map([...inherited, ...own]);
    const instance = SERVER.exec(loc)?.[1] ?? '';
    const domains: IisDomain[] = nodes
      .filter((n) => n.type === 'IIsSmtpDomain' && DOMAIN.exec(location(n.node))?.[1] === instance)
      .map((n) => domainOf(n.node));
    const relayHex = own.has('RelayIpList') ? own.get('RelayIpList') ?? '' : inherited.get('RelayIpList');
    return {
      location: loc,
      properties: merged,
      connectionControl: decoded(merged.get('IPSecurity'), `${loc} IPSecurity (Connection control)`),
      relayList: relayHex === undefined ? 'absent' : decoded(relayHex, `${loc} RelayIpList (Relay restrictions)`),
      domains,
    };
  });
}

function decoded(hex: string | undefined, what: string): IisServer['connectionControl'] {
  if (hex === undefined) return null;
  try {
    return decodeIpSecurity(hex, what);
  } catch (err) {
    if (err instanceof IpSecurityError) throw new IisImportError(err.message);
    throw err;
  }
}

function collect(value: unknown, out: Array<{ type: string; node: XmlNode }>): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, out);
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as XmlNode)) {
    if (key.startsWith(ATTR) || key === '#text') continue;
    if (/^IIsSmtp/i.test(key) && Array.isArray(child)) {
      for (const node of child) if (node && typeof node === 'object') out.push({ type: key, node: node as XmlNode });
    }
    collect(child, out);
  }
}

function location(node: XmlNode): string {
  return String(node[`${ATTR}Location`] ?? '').trim();
}

/** The node's properties: its attributes, and <Custom Name="…" Value="…"> children. */
function properties(node: XmlNode): Map<string, string> {
  const props = new Map<string, string>();
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith(ATTR) && key !== `${ATTR}Location`) props.set(key.slice(ATTR.length), decodeEntities(String(value)));
  }
  const customs = node.Custom;
  if (Array.isArray(customs)) {
    for (const custom of customs as XmlNode[]) {
      const name = custom[`${ATTR}Name`];
      if (typeof name === 'string') props.set(name, decodeEntities(String(custom[`${ATTR}Value`] ?? '')));
    }
  }
  return props;
}

function decodeEntities(text: string): string {
  return text.replace(/&#x([0-9a-f]+);/gi, (_m, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_m, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function domainOf(node: XmlNode): IisDomain {
  const props = properties(node);
  const name = decodeURIComponent(DOMAIN.exec(location(node))?.[2] ?? '');
  const routeAction = props.has('RouteAction') ? Number(props.get('RouteAction')) : null;
  return { name, routeAction: Number.isFinite(routeAction) ? routeAction : null, kind: domainKind(routeAction), smartHost: props.get('RouteActionString')?.trim() || null };
}

/**
 * RouteAction flags (IIS 6 metabase reference, RouteAction; the flag values as listed in that
 * page's community content): SMTP_DROP 0x1, SMTP_SMARTHOST 0x2, SMTP_SSL 0x4, SMTP_ALIAS 0x10,
 * SMTP_DEFAULT 0x40, SMTP_DOMAIN_RELAY 0x1000 ("allow incoming mail to be relayed to this domain").
 * Default and alias domains are local; any other is a remote domain.
 */
export const ROUTE_ACTION = { DROP: 0x1, SMARTHOST: 0x2, SSL: 0x4, ALIAS: 0x10, DEFAULT: 0x40, DOMAIN_RELAY: 0x1000 } as const;

export function domainKind(routeAction: number | null): IisDomain['kind'] {
  if (routeAction === null) return 'unknown';
  if ((routeAction & ROUTE_ACTION.DEFAULT) !== 0) return 'local';
  if ((routeAction & ROUTE_ACTION.ALIAS) !== 0) return 'alias';
  return 'remote';
}
