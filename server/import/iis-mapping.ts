// From an IIS 6 SMTP virtual server to a Relaydesk virtual server, setting by setting, with a
// preview row for each: imported as is, imported with a change (and why), or not imported (and
// what to do instead). Pure: the IIS model and a few facts in (existing names, the certificate to
// use, the platform), a plan out; the store applies it atomically (iis-import.ts).
import {
  type AcceptedDomain, type AddressRuleInput, DEFAULT_ACCESS, DEFAULT_DELIVERY, DEFAULT_MESSAGES, hostnameSchema, type ListMode,
  type VirtualServerInput, virtualServerSchema,
} from '../contract/settings';
import { type Risk, riskOf } from '../contract/risk';
import { ROUTE_ACTION } from './iis-metabase';
import { IisImportError, type IisServer } from './iis-model';

export type PreviewStatus = 'as-is' | 'changed' | 'not-imported';

export interface PreviewRow {
  server: string;
  setting: string;
  /** The value in IIS, as the admin knew it. */
  iis: string;
  /** What Relaydesk will use. */
  relaydesk: string;
  status: PreviewStatus;
  note: string | null;
}

export interface ImportPlan {
  servers: Array<{ config: VirtualServerInput; risk: Risk | null }>;
  acceptedDomains: AcceptedDomain[];
  rows: PreviewRow[];
}

export interface MappingContext {
  /** Names of the virtual servers that already exist (an imported one gets another name). */
  existingServers: readonly string[];
  existingDomains: readonly string[];
  /** The stored certificate imported servers use (IIS's lives in the Windows certificate store). */
  certificate: string | null;
  /** Windows folders (C:\Inetpub\mailroot\Drop) are kept only on Windows. */
  platform: NodeJS.Platform;
  /** This machine's name, for an FQDN IIS did not set. */
  hostname: string;
}

const UNLIMITED = new Set([4294967295, 2000000000, -1]);
const MEBIBYTE = 1024 * 1024;

export function planImport(servers: readonly IisServer[], context: MappingContext): ImportPlan {
  const rows: PreviewRow[] = [];
  const taken = new Set(context.existingServers.map((n) => n.toLowerCase()));
  const domains = new Map<string, AcceptedDomain>();
  const planned = servers.map((iis) => {
    const config = mapServer(iis, context, taken, rows, domains);
    taken.add(config.name.toLowerCase());
    const parsed = virtualServerSchema.safeParse(config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new IisImportError(`${iis.location}: the imported settings are not valid (${issue?.path.join('.')}: ${issue?.message}); nothing was changed`);
    }
    return { config, risk: riskOf(parsed.data) };
  });
  return { servers: planned, acceptedDomains: [...domains.values()], rows };
}

function mapServer(iis: IisServer, context: MappingContext, taken: Set<string>, rows: PreviewRow[], domains: Map<string, AcceptedDomain>): VirtualServerInput {
  const p = iis.properties;
  const instance = /(\d+)$/.exec(iis.location)?.[1] ?? '?';
  const comment = (p.get('ServerComment') ?? '').replace(/^\[(.*)\]$/, '$1').trim() || `IIS SMTP virtual server ${instance}`;
  let name = comment;
  for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${comment} (IIS${i > 2 ? ` ${i - 1}` : ''})`;
  const row = (setting: string, iisValue: string, relaydesk: string, status: PreviewStatus, note: string | null = null) => rows.push({ server: name, setting, iis: iisValue, relaydesk, status, note });
  row('Name', comment, name, name === comment ? 'as-is' : 'changed', name === comment ? null : 'a virtual server of that name exists already');

  // ── General ──
  const bindings = (p.get('ServerBindings') ?? ':25:').split(/[\r\n]+/).map((b) => b.trim()).filter(Boolean);
  const [first, ...more] = bindings;
  const binding = /^([^:]*):(\d+):(.*)$/.exec(first ?? ':25:');
  if (!binding) throw new IisImportError(`${iis.location}: ServerBindings "${first}" is not "address:port:"`);
  const bindAddress = binding[1] === '' ? 'all' : binding[1] ?? 'all';
  const port = Number(binding[2]);
  row('IP address and TCP port (ServerBindings)', bindings.join(', '), `${bindAddress === 'all' ? '(All Unassigned)' : bindAddress}:${port}`, more.length ? 'changed' : 'as-is',
    more.length ? `only the first binding is imported; add a virtual server for ${more.join(', ')}` : null);
  const secure = /^([^:]*):(\d+):/.exec((p.get('SecureBindings') ?? '').split(/[\r\n]+/)[0]?.trim() ?? '');
  const tlsPort = secure ? Number(secure[2]) : null;
  if (secure) row('Secure port (SecureBindings)', secure[0], `implicit TLS on ${tlsPort}`, 'as-is');
  const fqdnText = p.get('FullyQualifiedDomainName')?.trim() ?? '';
  const fqdnOk = hostnameSchema.safeParse(fqdnText).success;
  const fqdn = fqdnOk ? fqdnText.toLowerCase() : context.hostname;
  row('Fully qualified domain name', fqdnText || '(not set)', fqdn, fqdnOk ? 'as-is' : 'changed', fqdnOk ? null : 'not a valid host name in IIS: this machine\'s name is used');
  const maxConnections = limit(p.get('MaxConnections'), 100_000);
  row('Limit number of connections', p.get('MaxConnections') ?? '(not set)', maxConnections === null ? 'no limit' : String(maxConnections), 'as-is');
  const timeout = clamp(num(p.get('ConnectionTimeout')) ?? 600, 5, 3600);
  const timeoutKept = num(p.get('ConnectionTimeout')) === timeout || !p.has('ConnectionTimeout');
  row('Connection time-out (seconds)', p.get('ConnectionTimeout') ?? '600', String(timeout), timeoutKept ? 'as-is' : 'changed', timeoutKept ? null : 'Relaydesk allows 5 to 3600 seconds');
  const logging = p.has('LogType') ? num(p.get('LogType')) !== 0 : true;
  row('Enable logging', p.get('LogType') ?? '(not set)', logging ? 'on (live log, W3C/CSV export)' : 'off', 'as-is');
  row('Running state', p.get('ServerAutoStart') ?? '(not set)', 'stopped', 'changed', 'imported stopped: start it once the IIS server no longer listens on the same port');

  // ── Access ──
  const auth = authFlags(p.get('AuthFlags') ?? '1');
  row('Anonymous access', yesNo(auth.anonymous), yesNo(auth.anonymous), 'as-is');
  row('Basic authentication', yesNo(auth.basic), yesNo(auth.basic), 'as-is');
  if (auth.ntlm) row('Integrated Windows authentication', 'yes', 'CRAM-MD5 offered', 'changed', 'not available outside Windows domains: CRAM-MD5 (challenge-response, the password never crosses the wire) is turned on for the server; each user turns it on with their password');
  row('Basic authentication requires TLS', '(not read)', 'yes', 'not-imported', 'this check box is not read from the metabase; Relaydesk requires TLS for passwords (untick it under Authentication if old clients need it)');
  const sslFlags = flags(p.get('AccessSSLFlags') ?? '', { AccessSSL: 8, AccessSSL128: 256 });
  const requireSecureChannel = (sslFlags & 8) !== 0;
  const requireStrong = (sslFlags & 256) !== 0;
  row('Require secure channel', yesNo(requireSecureChannel), yesNo(requireSecureChannel), 'as-is');
  row('Require 128-bit encryption', yesNo(requireStrong), requireStrong ? 'strong encryption (TLS 1.2+, AEAD ciphers)' : 'TLS 1.2 or newer', 'as-is');
  row('Certificate', '(Windows certificate store)', context.certificate ?? 'none', 'not-imported',
    'certificates live in the Windows certificate store: export it with its private key as a .pfx (certlm.msc → Personal → Certificates → the certificate → All Tasks → Export, "Yes, export the private key") and import it with Certificates → Certificate wizard → Import PFX, then assign it to this server');
  const relayForAuth = p.has('RelayForAuth') ? num(p.get('RelayForAuth')) !== 0 : true;
  row('Allow authenticated computers to relay', p.get('RelayForAuth') ?? '(not set)', yesNo(relayForAuth), 'as-is');
  const connection = iis.connectionControl;
  const connectionList = connection && !('hex' in connection) ? connection : { mode: 'all-except' as ListMode, rules: [] };
  row('Connection control (IPSecurity)', connection ? describeList(connectionList) : '(not set: every computer)', describeList(connectionList), 'as-is');
  let relay: { mode: ListMode; rules: AddressRuleInput[] };
  if (iis.relayList === 'absent') {
    relay = { mode: 'only-list', rules: [] };
    row('Relay restrictions (RelayIpList)', '(attribute absent)', describeList(relay), 'changed', 'the attribute is missing (IIS 6 Manager then cannot open this server\'s properties); the SMTP service treats that as no computer on the list, so nobody relays without signing in');
  } else if (iis.relayList === null || 'hex' in iis.relayList) {
    relay = { mode: 'only-list', rules: [] };
    row('Relay restrictions (RelayIpList)', '(empty list)', describeList(relay), 'as-is');
  } else {
    relay = iis.relayList;
    row('Relay restrictions (RelayIpList)', describeList(relay), describeList(relay), 'as-is',
      relay.mode === 'all-except' && relay.rules.length === 0 ? 'IIS allowed every computer to relay (an empty "All except the list below")' : null);
  }

  // ── Messages ──
  const maxMessage = limit(p.get('MaxMessageSize'), 2048 * MEBIBYTE, true);
  row('Limit message size', bytes(p.get('MaxMessageSize')), maxMessage === null ? 'no limit' : `${maxMessage} bytes`, 'as-is');
  const maxSession = limit(p.get('MaxSessionSize'), 16 * 1024 * MEBIBYTE, true);
  row('Limit session size', bytes(p.get('MaxSessionSize')), maxSession === null ? 'no limit' : `${maxSession} bytes`, 'as-is');
  const perConnection = limit(p.get('MaxBatchedMessages'), 1_000_000, true);
  row('Limit number of messages per connection', p.get('MaxBatchedMessages') ?? '(not set)', perConnection === null ? 'no limit' : String(perConnection), 'as-is');
  const recipients = limit(p.get('MaxRecipients'), 100_000, true);
  row('Limit number of recipients per message', p.get('MaxRecipients') ?? '(not set)', recipients === null ? 'no limit' : String(recipients), 'as-is');
  const ndrTo = p.get('SendNdrTo')?.trim() || null;
  row('Send copy of Non-Delivery Report to', ndrTo ?? '(not set)', ndrTo ?? '(not set)', 'as-is');

  // ── Folders (Windows paths are kept only where Relaydesk runs on Windows) ──
  const folder = (setting: string, key: string): string | null => {
    const value = p.get(key)?.trim() || null;
    if (!value) return null;
    const windows = /^[A-Za-z]:[\\/]|^\\\\/.test(value);
    if (windows && context.platform !== 'win32') {
      row(setting, value, 'the data folder\'s own', 'not-imported', 'a Windows folder; Relaydesk on this machine uses the folder inside its data folder');
      return null;
    }
    row(setting, value, value, 'as-is');
    return value;
  };
  const badmail = folder('Badmail directory', 'BadMailDirectory');
  const drop = folder('Drop directory', 'DropDirectory');
  const pickup = folder('Pickup directory', 'PickupDirectory');

  // ── Delivery ──
  const smartHostText = p.get('SmartHost')?.trim() || '';
  const smartHostType = num(p.get('SmartHostType')) ?? (smartHostText ? 2 : 0);
  const outboundPort = clamp(num(p.get('RemoteSmtpPort')) ?? 25, 1, 65535);
  const routeAction = num(p.get('RouteAction')) ?? 0;
  const outboundTls = (routeAction & ROUTE_ACTION.SSL) !== 0;
  const basicOut = (routeAction & 0x100) !== 0;
  let smartHost: VirtualServerInput['delivery']['smartHost'] = null;
  if (smartHostText && smartHostType !== 0) {
    const user = p.get('RouteUserName')?.trim() || null;
    smartHost = { host: smartHostText, port: outboundPort, security: outboundTls ? 'starttls' : 'none', verifyCertificate: true, authentication: basicOut && user ? 'basic' : 'none', user: basicOut ? user : null, password: null, trustedCertificate: null };
    row('Smart host', `${smartHostText} (${smartHostType === 1 ? 'attempt direct delivery first' : 'always'})`, `${smartHostText}:${outboundPort}${smartHostType === 1 ? ', direct delivery first' : ''}`, 'as-is');
    row('Outbound security', outboundTls ? 'TLS encryption' : 'no TLS', outboundTls ? 'STARTTLS required' : 'none', outboundTls ? 'as-is' : 'changed',
      outboundTls ? null : 'IIS sent to the smart host without TLS; choose STARTTLS on the Delivery tab if the smart host offers it');
    if (basicOut) row('Outbound authentication', `basic as ${user ?? '?'}`, `basic as ${user ?? '?'}`, 'changed', 'the password is encrypted by Windows in the metabase and cannot be read: enter it on the Delivery tab');
    if ((routeAction & 0x80) !== 0) row('Outbound authentication', 'integrated Windows', 'none', 'not-imported', 'not available: use basic or OAuth2 with the smart host');
  } else {
    row('Smart host', '(none)', 'direct delivery by MX', 'as-is');
  }
  row('Outbound TCP port', String(outboundPort), String(outboundPort), 'as-is');
  const retries = (p.get('SmtpRemoteProgressiveRetry') ?? '15,30,60,240').split(',').map((v) => Number(v.trim()));
  const [r1 = 15, r2 = 30, r3 = 60, r4 = 240] = retries.every((v) => Number.isFinite(v) && v > 0) ? retries : [15, 30, 60, 240];
  row('Retry intervals (minutes)', p.get('SmtpRemoteProgressiveRetry') ?? '15,30,60,240', `${r1}, ${r2}, ${r3}, then every ${r4}`, 'as-is');
  const delayMinutes = num(p.get('SmtpRemoteDelayExpireMinutes')) ?? 720;
  const expireMinutes = num(p.get('SmtpRemoteNDRExpireMinutes')) ?? 2880;
  row('Delay notification / expiration timeout (remote)', `${delayMinutes} / ${expireMinutes} minutes`, `${delayMinutes / 60} / ${expireMinutes / 60} hours`, 'as-is');
  if (p.has('SmtpLocalDelayExpireMinutes') || p.has('SmtpLocalNDRExpireMinutes')) row('Delay notification / expiration (local)', `${p.get('SmtpLocalDelayExpireMinutes') ?? '-'} / ${p.get('SmtpLocalNDRExpireMinutes') ?? '-'} minutes`, '-', 'not-imported', 'Relaydesk delivers local domains at once; they do not wait in a queue');
  const masquerade = p.get('MasqueradeDomain')?.trim() || null;
  row('Masquerade domain', masquerade ?? '(not set)', masquerade ?? '(not set)', 'as-is');
  const hops = clamp(num(p.get('HopCount')) ?? 15, 1, 500);
  row('Maximum hop count', p.get('HopCount') ?? '15', String(hops), 'as-is');
  const outConnections = clamp(limit(p.get('MaxOutConnections'), 500) ?? 500, 1, 500);
  const perDomain = clamp(limit(p.get('MaxOutConnectionsPerDomain'), 500) ?? 500, 1, 500);
  row('Outbound connections (total / per domain)', `${p.get('MaxOutConnections') ?? '-'} / ${p.get('MaxOutConnectionsPerDomain') ?? '-'}`, `${outConnections} / ${perDomain}`, 'as-is');
  const remoteTimeout = clamp(num(p.get('RemoteTimeout')) ?? 600, 5, 3600);
  row('Outbound time-out (seconds)', p.get('RemoteTimeout') ?? '600', String(remoteTimeout), 'as-is');
  const reverseDns = /^(true|1|-1)$/i.test(p.get('EnableReverseDnsLookup') ?? 'false');
  row('Perform reverse DNS lookup on incoming messages', yesNo(reverseDns), yesNo(reverseDns), 'as-is');

  // ── Domains ──
  for (const domain of iis.domains) {
    const key = domain.name.toLowerCase();
    const relayed = domain.routeAction !== null && (domain.routeAction & ROUTE_ACTION.DOMAIN_RELAY) !== 0;
    const forwardsToHost = domain.routeAction !== null && (domain.routeAction & ROUTE_ACTION.SMARTHOST) !== 0 && domain.smartHost;
    if (domain.kind === 'local' || domain.kind === 'alias') {
      const exists = context.existingDomains.some((d) => d.toLowerCase() === key);
      if (!exists) domains.set(key, { domain: key, action: 'drop', forwardTo: null });
      row(`Domain ${domain.name}`, domain.kind === 'local' ? 'local (default)' : 'local (alias)', 'accepted domain, drop folder', exists ? 'changed' : 'as-is', exists ? 'already an accepted domain here' : 'accepted domains apply to every virtual server in Relaydesk');
    } else if (domain.kind === 'remote' && relayed && forwardsToHost) {
      const target = domain.smartHost?.replace(/^\[(.*)\]$/, '$1') ?? '';
      domains.set(key, { domain: key, action: 'forward', forwardTo: target.includes(':') && !target.includes('::') ? target : `${target}:25` });
      row(`Domain ${domain.name}`, `remote, relayed, forwarded to ${domain.smartHost}`, `accepted domain, forwarded to ${target}`, 'as-is');
    } else {
      row(`Domain ${domain.name}`, domain.kind === 'unknown' ? 'type unknown (no RouteAction)' : `remote (RouteAction ${domain.routeAction ?? 0})`, '-', 'not-imported',
        domain.kind === 'unknown' ? 'the metabase does not say whether it is local or remote; add it under accepted domains if mail for it should be taken in' : 'per-domain delivery settings (TLS, its own smart host) have no counterpart yet; mail to it leaves by the server\'s smart host or MX');
    }
  }

  const access = {
    ...DEFAULT_ACCESS, anonymous: auth.anonymous, basicAuth: auth.basic, cramMd5: auth.ntlm, requireSecureChannel, requireStrongEncryption: requireStrong,
    relayForAuthenticated: relayForAuth, connectionMode: connectionList.mode, relayMode: relay.mode, reverseDnsForReceived: reverseDns,
  };
  return {
    name, bindAddress, port, tlsPort, fqdn, maxConnections, connectionTimeoutSeconds: timeout, loggingEnabled: logging, state: 'stopped',
    access,
    messages: { ...DEFAULT_MESSAGES, maxMessageBytes: maxMessage, maxSessionBytes: maxSession, maxMessagesPerConnection: perConnection, maxRecipientsPerMessage: recipients, ndrCopyTo: ndrTo, badmailFolder: badmail },
    delivery: {
      ...DEFAULT_DELIVERY, dropFolder: drop, pickupFolder: pickup ?? '', maxHopCount: hops, masqueradeDomain: masquerade, smartHost, attemptDirectFirst: smartHostType === 1,
      retryMinutes: { first: r1, second: r2, third: r3, subsequent: r4 }, delayNotificationHours: Math.max(0.0001, delayMinutes / 60), expirationHours: Math.max(0.001, expireMinutes / 60),
      outboundPort, outboundConnections: outConnections, outboundConnectionsPerDomain: perDomain, outboundTimeoutSeconds: remoteTimeout,
    },
    connectionRules: connectionList.rules, relayRules: relay.rules, certificate: context.certificate, banner: null,
  };
}

function num(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : null;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(value)));
}

/** A limit: IIS's "unlimited" markers (and 0 where IIS means "no limit") become null. */
function limit(value: string | undefined, max: number, zeroIsNone = false): number | null {
  const n = num(value);
  if (n === null || UNLIMITED.has(n) || (zeroIsNone && n === 0)) return null;
  return clamp(n, 1, max);
}

function bytes(value: string | undefined): string {
  const n = num(value);
  return n === null ? '(not set)' : UNLIMITED.has(n) || n === 0 ? 'no limit' : `${n} bytes (${Math.round(n / 1024)} KB)`;
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

/** AuthFlags as a number (5) or as IIS writes it in MetaBase.xml ("AuthBasic | AuthAnonymous | AuthNTLM"). */
function authFlags(text: string): { anonymous: boolean; basic: boolean; ntlm: boolean } {
  const value = flags(text, { AuthAnonymous: 1, AuthBasic: 2, AuthNTLM: 4, AuthMD5: 16, AuthPassport: 64 });
  return { anonymous: (value & 1) !== 0, basic: (value & 2) !== 0, ntlm: (value & 4) !== 0 };
}

function flags(text: string, names: Record<string, number>): number {
  const trimmed = text.trim();
  if (/^-?\d+$/.test(trimmed)) return Number(trimmed) >>> 0;
  return trimmed.split('|').map((part) => part.trim()).filter(Boolean).reduce((sum, part) => {
    const value = names[part];
    if (value === undefined) throw new IisImportError(`unknown flag "${part}" in "${text}"`);
    return sum | value;
  }, 0);
}

function describeList(list: { mode: ListMode; rules: AddressRuleInput[] }): string {
  const entries = list.rules.map((r) => (r.kind === 'address' ? r.address : r.kind === 'subnet' ? `${r.network}/${r.prefix ?? r.mask}` : `domain ${r.domain}`));
  return `${list.mode === 'only-list' ? 'Only the list below' : 'All except the list below'}: ${entries.length ? entries.join(', ') : '(empty)'}`;
}
