// A virtual server's settings as the property sheets show them (tab and label, in the console's
// words), the defaults of a new server, and dotted paths into the exported configuration
// (`relaydesk server set NAME access.anonymous=false`). Pure: shared by the CLI, config import
// and anyone who needs to name a setting the way the console does.
import {
  DEFAULT_ACCESS, DEFAULT_DELIVERY, DEFAULT_MESSAGES, type DeliveryRoute, describeAddressRule, type AddressRule, type VirtualServerConfig,
} from './settings';

export type PropertyTab = 'General' | 'Access' | 'Messages' | 'Delivery';

/** The port a new server listens on unless told otherwise (message submission, RFC 6409). */
export const NEW_SERVER_PORT = 587;

/**
 * A new virtual server: the secure defaults of SPEC §1 (TLS and authentication required, relay
 * only for signed-in users), direct delivery, the pickup folder off (one folder, one server).
 */
export function newServerDefaults(input: { name: string; fqdn: string; certificate: string | null }): VirtualServerConfig {
  return {
    name: input.name,
    bindAddress: '127.0.0.1',
    port: NEW_SERVER_PORT,
    tlsPort: null,
    fqdn: input.fqdn,
    maxConnections: 100,
    connectionTimeoutSeconds: 120,
    loggingEnabled: true,
    state: 'started',
    access: DEFAULT_ACCESS,
    messages: DEFAULT_MESSAGES,
    delivery: DEFAULT_DELIVERY,
    connectionRules: [],
    relayRules: [],
    certificate: input.certificate,
    banner: null,
  };
}

const TAB_OF_TOP_LEVEL: Record<string, PropertyTab> = {
  name: 'General', bindAddress: 'General', port: 'General', tlsPort: 'General', fqdn: 'General', maxConnections: 'General',
  connectionTimeoutSeconds: 'General', loggingEnabled: 'General', state: 'General', banner: 'General',
  access: 'Access', connectionRules: 'Access', relayRules: 'Access', certificate: 'Access', messages: 'Messages', delivery: 'Delivery',
};

/** The console's label of each setting (where the console has one). */
const LABELS: Record<string, string> = {
  name: 'Name', bindAddress: 'IP address', port: 'TCP port', tlsPort: 'Implicit TLS port (SMTPS)', fqdn: 'Fully qualified domain name (FQDN)',
  maxConnections: 'Limit number of connections to', connectionTimeoutSeconds: 'Connection time-out (seconds)',
  loggingEnabled: 'Enable logging (live log and its history)', state: 'State', banner: 'Greeting text',
  'access.anonymous': 'Anonymous access', 'access.basicAuth': 'Basic authentication (AUTH PLAIN and LOGIN)', 'access.basicRequiresTls': 'Requires TLS encryption',
  'access.cramMd5': 'Challenge-response authentication (CRAM-MD5)', 'access.defaultDomain': 'Default domain',
  'access.requireSecureChannel': 'Require secure channel', 'access.requireStrongEncryption': 'Require strong encryption (TLS 1.2+, AEAD ciphers of 128 bits or more)',
  'access.allowLegacyTls': 'Allow legacy TLS 1.0 and 1.1 for old devices', 'access.connectionMode': 'Connection control: grant',
  'access.relayMode': 'Relay restrictions: grant', 'access.relayForAuthenticated': 'Allow all computers which successfully authenticate to relay',
  'access.restrictSenders': 'Users may send only as their own addresses',
  'access.reverseDnsForReceived': 'Perform reverse DNS lookup on incoming messages (name in the Received header)',
  'access.maxConnectionsPerAddress': 'Limit connections from one client address to', 'access.sniCertificates': 'More certificates, chosen by name (SNI)',
  'access.lockout.slowAfter': 'Failed sign-ins: slow down after', 'access.lockout.blockAfter': 'Failed sign-ins: block after',
  'access.lockout.windowMinutes': 'Failed sign-ins: counted over (minutes)', 'access.lockout.blockMinutes': 'Failed sign-ins: block for (minutes)',
  'access.trustedDevices': 'Trusted devices', connectionRules: 'Connection control list', relayRules: 'Relay restrictions list',
  certificate: 'Certificate used for STARTTLS and the implicit-TLS port',
  'messages.maxMessageBytes': 'Limit message size to (bytes)', 'messages.maxSessionBytes': 'Limit session size to (bytes)',
  'messages.maxMessagesPerConnection': 'Limit number of messages per connection to', 'messages.maxRecipientsPerMessage': 'Limit number of recipients per message to',
  'messages.ndrCopyTo': 'Send copy of Non-Delivery Report to', 'messages.badmailFolder': 'Badmail directory',
  'delivery.dropFolder': 'Drop directory for local domains', 'delivery.pickupFolder': 'Pickup directory', 'delivery.maxHopCount': 'Maximum hop count',
  'delivery.masqueradeDomain': 'Masquerade domain', 'delivery.dnsServers': 'External DNS servers',
  'delivery.holdRemote': 'Hold mail for other domains in the queue (local domains still deliver)', 'delivery.smartHost': 'Smart host',
  'delivery.smartHost.host': 'Smart host', 'delivery.smartHost.port': 'Smart host: port', 'delivery.smartHost.security': 'Smart host: security',
  'delivery.smartHost.verifyCertificate': "Verify the smart host's certificate", 'delivery.smartHost.authentication': 'Outbound authentication',
  'delivery.smartHost.user': 'Outbound authentication: account', 'delivery.smartHost.password': 'Outbound authentication: password',
  'delivery.smartHost.trustedCertificate': "Smart host's trusted certificate", 'delivery.smartHost.oauth2': 'OAuth2',
  'delivery.smartHost.transport': 'Smart host: transport (smtp, or Microsoft Graph)', 'delivery.smartHost.graphUrl': 'Microsoft Graph address',
  'delivery.smartHost.clientCertificate': 'Client certificate (certificate-based connector)',
  'delivery.smartHost.maxMessagesPerMinute': "Provider's cap: messages a minute", 'delivery.smartHost.maxRecipientsPerDay': "Provider's cap: recipients a day",
  'delivery.smartHost.oauth2.provider': 'OAuth2: provider', 'delivery.smartHost.oauth2.tenant': 'Directory (tenant) ID',
  'delivery.smartHost.oauth2.clientId': 'Application (client) ID', 'delivery.smartHost.oauth2.clientSecret': 'Client secret',
  'delivery.smartHost.oauth2.certificate': 'OAuth2: certificate (instead of a client secret)', 'delivery.smartHost.oauth2.authority': 'OAuth2: sign-in address',
  'delivery.smartHost.oauth2.flow': 'Sign-in', 'delivery.smartHost.oauth2.authorizationEndpoint': 'Authorization endpoint',
  'delivery.smartHost.oauth2.tokenEndpoint': 'Token endpoint', 'delivery.smartHost.oauth2.deviceEndpoint': 'Device authorization endpoint',
  'delivery.smartHost.oauth2.revocationEndpoint': 'Revocation endpoint (RFC 7009, optional)', 'delivery.smartHost.oauth2.scope': 'Scope',
  'delivery.routes': 'Routes (relaydesk route list for details)',
  'delivery.attemptDirectFirst': 'Attempt direct delivery before sending to smart host',
  'delivery.retryMinutes.first': 'First retry interval (minutes)', 'delivery.retryMinutes.second': 'Second retry interval (minutes)',
  'delivery.retryMinutes.third': 'Third retry interval (minutes)', 'delivery.retryMinutes.subsequent': 'Subsequent retry interval (minutes)',
  'delivery.delayNotificationHours': 'Delay notification (hours)', 'delivery.expirationHours': 'Expiration time-out (hours)',
  'delivery.outboundPort': 'Outbound TCP port', 'delivery.outboundConnections': 'Limit number of outbound connections to',
  'delivery.outboundConnectionsPerDomain': 'Limit number of connections per domain to', 'delivery.outboundTimeoutSeconds': 'Outbound time-out (seconds)',
};

export interface SettingLine { tab: PropertyTab; path: string; label: string; value: string }

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function showValue(path: string, value: unknown): string {
  if (value === null) return path === 'delivery.smartHost' ? 'none (directly, by MX)' : '-';
  if (path === 'delivery.smartHost.password' || path === 'delivery.smartHost.oauth2.clientSecret') return value ? '(stored)' : '-';
  if (path === 'delivery.smartHost.trustedCertificate') return '(a pinned certificate)';
  if (path === 'connectionRules' || path === 'relayRules') return (value as AddressRule[]).map(describeAddressRule).join(', ') || '(empty)';
  if (path === 'access.trustedDevices') return (value as Array<{ name: string; match: AddressRule }>).map((d) => `${d.name} (${describeAddressRule(d.match)})`).join(', ') || '(none)';
  if (path === 'delivery.routes') {
    return (value as DeliveryRoute[]).map((r, i) => `${i + 1}. ${r.name} → ${r.smartHost ? (r.smartHost.transport === 'graph' ? `Graph as ${r.smartHost.user ?? '?'}` : `${r.smartHost.host}:${r.smartHost.port}`) : 'MX'}`).join('; ') || '(none: see relaydesk route list)';
  }
  if (path === 'delivery.pickupFolder' && value === '') return 'off';
  if (path === 'access.connectionMode' || path === 'access.relayMode') return value === 'only-list' ? 'only the list below (only-list)' : 'all except the list below (all-except)';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (Array.isArray(value)) return value.map(String).join(', ') || '(empty)';
  return String(value);
}

/** Every setting of a server, as the property sheets group them; secrets only as "(stored)". */
export function settingLines(config: VirtualServerConfig): SettingLine[] {
  const lines: SettingLine[] = [];
  const walk = (value: unknown, path: string) => {
    // Plain objects are groups of settings; a list (rules, devices, names) is one setting.
    if (isRecord(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, path ? `${path}.${key}` : key);
      return;
    }
    const tab = TAB_OF_TOP_LEVEL[path.split('.')[0] ?? ''] ?? 'General';
    lines.push({ tab, path, label: LABELS[path] ?? path, value: showValue(path, value) });
  };
  walk(config, '');
  return lines;
}

/** The value at a dotted path ("access.lockout.slowAfter", "connectionRules.0"), or undefined. */
export function valueAtPath(document: unknown, path: string): unknown {
  let node: unknown = document;
  for (const part of path.split('.')) {
    if (Array.isArray(node) && /^\d+$/.test(part)) node = node[Number(part)];
    else if (isRecord(node) && Object.prototype.hasOwnProperty.call(node, part)) node = node[part];
    else return undefined;
  }
  return node;
}

/** A copy of `document` with the value at `path` replaced; the path must exist (it names a setting). */
export function withValueAtPath<T>(document: T, path: string, value: unknown): T {
  const parts = path.split('.');
  const copy = structuredClone(document) as unknown;
  let node: unknown = copy;
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (Array.isArray(node) && /^\d+$/.test(part) && Number(part) <= node.length) {
      if (last) node[Number(part)] = value;
      else node = node[Number(part)];
    } else if (isRecord(node) && Object.prototype.hasOwnProperty.call(node, part)) {
      if (last) node[part] = value;
      else node = node[part];
    } else {
      throw new Error(`no setting "${parts.slice(0, i + 1).join('.')}"`);
    }
  });
  return copy as T;
}
