// The Access and Messages tabs as pure decisions, one function per SMTP step. Input: the
// compiled settings of one virtual server and the facts the engine gathered; output: a Decision.
// No I/O, no clock, no sockets: the engine and the policy simulator call these same functions.
import { type AccessSettings, legacyTlsAllowed, type MessageSettings, type TrustedDevice, type VirtualServerConfig } from '../contract/settings';
import { type CompiledAddressList, compileAddressList, matchAddress, matchDomain, needsReverseName } from './address-list';
import { allow, type Decision, refuse } from './decision';

export interface CompiledPolicy {
  access: AccessSettings;
  messages: MessageSettings;
  connectionList: CompiledAddressList;
  relayList: CompiledAddressList;
  /** Accepted (local) domains, lower case. */
  acceptedDomains: ReadonlySet<string>;
  /** The greeting's text after 220: "<FQDN> ESMTP[ banner]", as smtp-server writes it. */
  greeting: string;
  /** Trusted devices in list order, each with its compiled address entry. */
  devices: ReadonlyArray<{ device: TrustedDevice; list: CompiledAddressList }>;
}

export function compilePolicy(server: Pick<VirtualServerConfig, 'access' | 'messages' | 'connectionRules' | 'relayRules'> & Partial<Pick<VirtualServerConfig, 'fqdn' | 'banner'>>, acceptedDomains: Iterable<string>): CompiledPolicy {
  return {
    greeting: `${server.fqdn ?? 'localhost'} ESMTP${server.banner ? ` ${server.banner}` : ''}`,
    access: server.access,
    messages: server.messages,
    connectionList: compileAddressList(server.connectionRules),
    relayList: compileAddressList(server.relayRules),
    acceptedDomains: new Set([...acceptedDomains].map((d) => d.toLowerCase())),
    devices: server.access.trustedDevices.map((device) => ({ device, list: compileAddressList([device.match]) })),
  };
}

/** The trusted device this address belongs to (the first entry that matches), or null. */
export function matchTrustedDevice(policy: CompiledPolicy, address: string): TrustedDevice | null {
  for (const { device, list } of policy.devices) if (matchAddress(list, address) !== null) return device;
  return null;
}

/** What the engine learned of the client's reverse DNS name. */
export type ReverseName =
  | { status: 'confirmed'; name: string } // PTR whose name resolves back to the address
  | { status: 'none' } // no PTR, or one that does not confirm: a definite "no name"
  | { status: 'failed' } // timeout or server failure: unknown
  | { status: 'skipped' }; // not looked up (no rule needs it)

export interface ClientFacts {
  address: string;
  reverseName: ReverseName;
}

export interface TlsFacts {
  protocol: string; // "TLSv1.3"
  cipher: string; // OpenSSL name
  bits: number;
}

export interface UserFacts {
  name: string;
  /** Addresses the user may send as (exact, or "@domain" / "*@domain" for a whole domain). */
  senders: readonly string[];
  /** Provider-cap style limits (off = null): messages per hour, recipients per day. */
  perHour?: number | null;
  recipientsPerDay?: number | null;
}

/** What the engine counted for the sender of this session (the user, or the trusted device). */
export interface RateFacts {
  messagesLastHour: number;
  recipientsLastDay: number;
}

export interface SessionFacts extends ClientFacts {
  tls: TlsFacts | null;
  user: UserFacts | null;
  /** Messages already accepted in this session. */
  messagesAccepted: number;
  /** The data folder's disk is below its free-space floor: no new mail until space is back. */
  storageLow?: boolean;
  /** The trusted device the client's address belongs to (only when it did not sign in). */
  device?: TrustedDevice | null;
  rate?: RateFacts;
}

/** Does any rule of this server need the client's reverse DNS name at connect time? */
export function needsReverseLookup(policy: CompiledPolicy): boolean {
  return needsReverseName(policy.connectionList) || needsReverseName(policy.relayList) || policy.access.reverseDnsForReceived;
}

type ListMatch = { matched: true; label: string } | { matched: false; unknown: boolean };

function matchClient(list: CompiledAddressList, client: ClientFacts): ListMatch {
  const byAddress = matchAddress(list, client.address);
  if (byAddress !== null) return { matched: true, label: byAddress };
  if (list.domains.size === 0) return { matched: false, unknown: false };
  if (client.reverseName.status === 'confirmed') {
    const byDomain = matchDomain(list, client.reverseName.name);
    if (byDomain !== null) return { matched: true, label: byDomain };
    return { matched: false, unknown: false };
  }
  // A lookup that failed or was skipped cannot prove the client is outside a domain entry.
  return { matched: false, unknown: client.reverseName.status !== 'none' };
}

/**
 * Connection control: who may connect at all. A refused client gets 554 5.7.1 and is closed.
 * `openFromAddress` is how many sessions this address already has (for the per-address limit).
 */
export function evaluateConnection(policy: CompiledPolicy, client: ClientFacts, openFromAddress = 0): Decision {
  const limit = policy.access.maxConnectionsPerAddress;
  if (limit !== null && openFromAddress >= limit) {
    return refuse(421, '4.7.0', 'Too many connections from your address, try again later', 'connection:per-address-limit', true);
  }
  const mode = policy.access.connectionMode;
  const match = matchClient(policy.connectionList, client);
  if (mode === 'only-list') {
    if (match.matched) return allow(`connection:listed ${match.label}`, policy.greeting, 220, '');
    return refuse(554, '5.7.1', 'Access denied', match.unknown ? 'connection:not-listed (reverse DNS unavailable)' : 'connection:not-listed', true);
  }
  if (match.matched) return refuse(554, '5.7.1', 'Access denied', `connection:excluded ${match.label}`, true);
  if (match.unknown) {
    // All-except with domain entries and no answer from DNS: do not guess in the client's favour.
    return refuse(421, '4.7.0', 'Cannot verify your host name, try again later', 'connection:reverse-dns-unavailable', true);
  }
  return allow('connection:not-excluded', policy.greeting, 220, '');
}

export type AuthMechanism = 'PLAIN' | 'LOGIN' | 'CRAM-MD5';

/** The AUTH mechanisms this server offers at all (whatever the TLS state). */
export function offeredMechanisms(access: AccessSettings): AuthMechanism[] {
  const mechanisms: AuthMechanism[] = [];
  if (access.basicAuth) mechanisms.push('PLAIN', 'LOGIN');
  if (access.cramMd5) mechanisms.push('CRAM-MD5');
  return mechanisms;
}

/** AUTH mechanisms to advertise in the EHLO reply for this TLS state (none before TLS when required). */
export function evaluateEhloAuth(policy: CompiledPolicy, tls: boolean): AuthMechanism[] {
  const access = policy.access;
  if (tls) return offeredMechanisms(access);
  if (access.requireSecureChannel) return [];
  // CRAM-MD5 never sends the password, so "basic requires TLS" hides only PLAIN and LOGIN.
  return access.basicRequiresTls ? offeredMechanisms(access).filter((m) => m === 'CRAM-MD5') : offeredMechanisms(access);
}

/** The AUTH command itself, before any credentials are read. */
export function evaluateAuthCommand(policy: CompiledPolicy, facts: Pick<SessionFacts, 'tls' | 'user'>, mechanism: string): Decision {
  const access = policy.access;
  const upper = mechanism.toUpperCase();
  if (facts.user) return refuse(503, '5.5.1', 'Already authenticated', 'auth:already-authenticated');
  if (!facts.tls && access.requireSecureChannel) {
    return refuse(530, '5.7.0', 'Must issue a STARTTLS command first', 'access:require-secure-channel');
  }
  const offered: string[] = offeredMechanisms(access);
  if (!offered.includes(upper)) {
    return refuse(504, '5.5.4', 'Unrecognized authentication type', offered.length ? 'auth:mechanism-not-enabled' : 'auth:disabled');
  }
  if (!facts.tls && access.basicRequiresTls && upper !== 'CRAM-MD5') {
    return refuse(538, '5.7.11', 'Encryption required for requested authentication mechanism', 'auth:basic-requires-tls');
  }
  return allow('auth:mechanism-allowed', 'Go ahead', 334, '');
}

const WEAK_CIPHER = /(NULL|EXPORT|RC4|DES|MD5|anon)/i;

/** After the TLS handshake: the negotiated protocol and cipher against "require strong encryption". */
export function evaluateTlsSession(policy: CompiledPolicy, tls: TlsFacts): Decision {
  const access = policy.access;
  const legacy = tls.protocol === 'TLSv1' || tls.protocol === 'TLSv1.1';
  if (legacy && !legacyTlsAllowed(access)) {
    return refuse(554, '5.7.0', 'TLS 1.2 or newer required', 'tls:legacy-protocol', true);
  }
  if (access.requireStrongEncryption) {
    const aead = tls.protocol === 'TLSv1.3' || /GCM|CHACHA20|CCM/i.test(tls.cipher);
    if (legacy || tls.bits < 128 || !aead || WEAK_CIPHER.test(tls.cipher)) {
      return refuse(554, '5.7.0', 'Strong encryption required', 'tls:strong-encryption-required', true);
    }
  } else if (tls.bits < 128 || WEAK_CIPHER.test(tls.cipher)) {
    return refuse(554, '5.7.0', 'Cipher too weak', 'tls:weak-cipher', true);
  }
  return allow('tls:accepted', 'TLS accepted', 220);
}

/** A TLS handshake that did not complete: Node's error code (ERR_SSL_…) and OpenSSL's reason, or neither when the client left. */
export interface TlsFailure { code: string | null; reason: string | null; /** Not one byte came from the client (the implicit-TLS port). */ clientSentNothing?: boolean }

/**
 * Why a client's TLS handshake failed, in the admin's words and with what to do. No reply was
 * sent (the client had its "220 Ready to start TLS", or is on the implicit-TLS port): code 0.
 */
export function evaluateTlsFailure(policy: CompiledPolicy, failure: TlsFailure): Decision {
  const code = failure.code ?? '';
  const alert = /ALERT_([A-Z_]+)$/.exec(code)?.[1]?.toLowerCase().replace(/_/g, ' ');
  const noReply = (rule: string, text: string): Decision => ({ verdict: 'refuse', code: 0, enhanced: '', text, rule, close: true });
  const failed = (rule: string, why: string): Decision => noReply(rule, `TLS handshake failed: ${why}`);
  if (/UNSUPPORTED_PROTOCOL|VERSION_TOO_LOW|ALERT_PROTOCOL_VERSION/.test(code)) {
    return failed('tls:legacy-protocol', legacyTlsAllowed(policy.access)
      ? 'the client and this server have no TLS version in common'
      : 'the client offers only TLS 1.1 or older; this server requires TLS 1.2 or newer (a device that speaks nothing newer: a virtual server of its own with legacy TLS allowed, see Trusted devices)');
  }
  if (/NO_SHARED_CIPHER|ALERT_HANDSHAKE_FAILURE|ALERT_INSUFFICIENT_SECURITY|NO_SUITABLE_SIGNATURE|NO_SHARED_GROUP/.test(code)) {
    return failed('tls:weak-cipher', policy.access.requireStrongEncryption
      ? 'no cipher in common: the client offers none of the strong ciphers this server requires'
      : 'no cipher in common: the client offers only ciphers this server refuses');
  }
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|DECRYPT_ERROR|ACCESS_DENIED)$/.test(code)) {
    return failed('tls:certificate-not-trusted', `the client does not accept this server's certificate (${alert ?? 'alert'}): trust it on the device, or use a certificate from a CA the device trusts`);
  }
  if (/HTTP_REQUEST|HTTPS_PROXY_REQUEST|WRONG_VERSION_NUMBER|UNKNOWN_PROTOCOL|RECORD_LAYER|PACKET_LENGTH_TOO_LONG/.test(code)) {
    return failed('tls:not-tls', 'the client did not speak TLS after STARTTLS (or on the TLS port)');
  }
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT' && failure.clientSentNothing) {
    return failed('tls:plain-on-tls-port', 'the client sent nothing: it waits for a greeting, so it is set to STARTTLS or no encryption on this implicit-TLS port (set it to SSL/TLS, or point it at the STARTTLS port)');
  }
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
    return noReply('tls:handshake-abandoned', 'TLS handshake not completed: the client stopped answering');
  }
  if (code === '' || code === 'SocketError' || /^E(CONNRESET|PIPE|TIMEDOUT)$/.test(code)) {
    return noReply('tls:handshake-abandoned', 'TLS handshake not completed: the client closed the connection');
  }
  return failed('tls:handshake-failed', failure.reason ?? code);
}

/** The trusted device acting in this session: only a client that did not sign in is one. */
function deviceOf(facts: SessionFacts): TrustedDevice | null {
  return facts.user ? null : facts.device ?? null;
}

/** Steps every transaction command passes first: secure channel, then authentication. */
function evaluateTransactionGate(policy: CompiledPolicy, facts: SessionFacts): Decision | null {
  const access = policy.access;
  const device = deviceOf(facts);
  if (!facts.tls && device && !device.allowWithoutTls) {
    return refuse(530, '5.7.0', 'Must issue a STARTTLS command first', `device:tls-required ${device.name}`);
  }
  if (access.requireSecureChannel && !facts.tls && !device?.allowWithoutTls) {
    return refuse(530, '5.7.0', 'Must issue a STARTTLS command first', 'access:require-secure-channel');
  }
  if (!access.anonymous && !facts.user && !device) {
    return refuse(530, '5.7.0', 'Authentication required', 'access:anonymous-disabled');
  }
  return null;
}

/** May this user send as this address? Exact match, or a domain entry "@example.com" / "*@example.com". */
export function senderAllowed(user: UserFacts, sender: string): boolean {
  const address = sender.toLowerCase();
  const domain = address.slice(address.lastIndexOf('@') + 1);
  const own = [user.name, ...user.senders].map((s) => s.toLowerCase());
  return own.some((entry) => entry === address || entry === `@${domain}` || entry === `*@${domain}`);
}

/**
 * ESMTP parameters this server implements (RFC 5321 §4.1.1.11: anything else is 555): SIZE
 * (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531) and AUTH (RFC 4954 §5) on MAIL; none on RCPT,
 * since DSN (NOTIFY, ORCPT) is not offered.
 */
const MAIL_PARAMETERS = new Set(['SIZE', 'BODY', 'SMTPUTF8', 'AUTH']);
const RCPT_PARAMETERS = new Set<string>();

function evaluateParameters(command: 'MAIL' | 'RCPT', parameters: readonly string[]): Decision | null {
  const known = command === 'MAIL' ? MAIL_PARAMETERS : RCPT_PARAMETERS;
  const unknown = parameters.find((p) => !known.has(p.toUpperCase()));
  if (unknown === undefined) return null;
  return refuse(555, '5.5.4', `${command === 'MAIL' ? 'MAIL FROM' : 'RCPT TO'} parameter ${unknown.toUpperCase().slice(0, 40)} not recognized`, `syntax:unknown-${command.toLowerCase()}-parameter`);
}

export function evaluateMailFrom(policy: CompiledPolicy, facts: SessionFacts, sender: string, declaredSize: number | null, parameters: readonly string[] = []): Decision {
  const gate = evaluateTransactionGate(policy, facts);
  if (gate) return gate;
  const syntax = evaluateParameters('MAIL', parameters);
  if (syntax) return syntax;
  if (facts.storageLow) {
    return refuse(452, '4.3.1', 'Insufficient system storage, try again later', 'storage:disk-space-low');
  }
  const limits = policy.messages;
  if (limits.maxMessagesPerConnection !== null && facts.messagesAccepted >= limits.maxMessagesPerConnection) {
    return refuse(421, '4.7.0', 'Too many messages in this connection, reconnect to continue', 'messages:per-connection-limit', true);
  }
  if (declaredSize !== null && limits.maxMessageBytes !== null && declaredSize > limits.maxMessageBytes) {
    return refuse(552, '5.3.4', `Message size exceeds fixed maximum message size ${limits.maxMessageBytes}`, 'messages:size-limit');
  }
  if (facts.user && policy.access.restrictSenders && sender !== '' && !senderAllowed(facts.user, sender)) {
    return refuse(553, '5.7.1', `Sender address rejected: not owned by user ${facts.user.name}`, 'access:restrict-senders');
  }
  const device = deviceOf(facts);
  if (device) {
    if (device.senders.length > 0 && !senderAllowed({ name: '', senders: device.senders }, sender)) {
      return refuse(550, '5.7.1', `Sender address <${sender}> is not allowed for trusted device "${device.name}"`, `device:sender-not-allowed ${device.name}`);
    }
    if (device.perHour !== null && (facts.rate?.messagesLastHour ?? 0) >= device.perHour) {
      return refuse(452, '4.7.0', `Message rate limit of ${device.perHour} per hour reached for trusted device "${device.name}", try again later`, `device:rate-limit ${device.name}`);
    }
    return allow(`mail:trusted-device ${device.name}`, 'Accepted', 250, '2.1.0');
  }
  const perHour = facts.user?.perHour ?? null;
  if (facts.user && perHour !== null && (facts.rate?.messagesLastHour ?? 0) >= perHour) {
    return refuse(452, '4.7.0', `Message rate limit of ${perHour} per hour reached for ${facts.user.name}, try again later`, 'user:rate-limit');
  }
  return allow('mail:accepted', 'Accepted', 250, '2.1.0');
}

/**
 * Sender-specified routing in the local part ("user%other.example@ours", "other.example!user@ours",
 * a quoted local part holding "@"): a forwarding server that honours it relays for anyone
 * (Postfix: allow_untrusted_routing = no). Source routes ("@a,@b:user@c") never reach here: the
 * protocol layer drops them as RFC 5321 §4.1.2 says.
 */
export function hasSenderSpecifiedRouting(recipient: string): boolean {
  const at = recipient.lastIndexOf('@');
  return at > 0 && /[%!@]/.test(recipient.slice(0, at));
}

export function evaluateRecipient(policy: CompiledPolicy, facts: SessionFacts, recipient: string, recipientsSoFar: number, parameters: readonly string[] = []): Decision {
  const gate = evaluateTransactionGate(policy, facts);
  if (gate) return gate;
  const syntax = evaluateParameters('RCPT', parameters);
  if (syntax) return syntax;
  const limit = policy.messages.maxRecipientsPerMessage;
  if (limit !== null && recipientsSoFar >= limit) {
    return refuse(452, '4.5.3', 'Too many recipients', 'messages:recipient-limit');
  }
  const perDay = facts.user?.recipientsPerDay ?? null;
  if (facts.user && perDay !== null && (facts.rate?.recipientsLastDay ?? 0) + recipientsSoFar >= perDay) {
    return refuse(452, '4.7.0', `Daily recipient limit of ${perDay} reached for ${facts.user.name}, try again later`, 'user:recipients-per-day');
  }
  const device = deviceOf(facts);
  const recipientDomain = recipient.slice(recipient.lastIndexOf('@') + 1).toLowerCase().replace(/\.$/, '');
  if (device && device.recipientDomains.length > 0 && !device.recipientDomains.some((d) => recipientDomain === d || recipientDomain.endsWith(`.${d}`))) {
    return refuse(550, '5.7.1', `Recipient <${recipient}> is not in a domain trusted device "${device.name}" may send to`, `device:recipient-domain-not-allowed ${device.name}`);
  }
  const access = policy.access;
  const match = matchClient(policy.relayList, facts);
  const grant: Decision | null = device
    ? allow(`relay:trusted-device ${device.name}`, 'Accepted', 250, '2.1.5')
    : facts.user && access.relayForAuthenticated
    ? allow('relay:authenticated', 'Accepted', 250, '2.1.5')
    : (access.relayMode === 'only-list' ? match.matched : !match.matched && !match.unknown)
      ? allow(match.matched ? `relay:listed ${match.label}` : 'relay:not-excluded', 'Accepted', 250, '2.1.5')
      : null;
  if (!grant && hasSenderSpecifiedRouting(recipient)) {
    return refuse(550, '5.7.1', `Unable to relay for <${recipient}>: sender-specified routing is not accepted`, 'relay:sender-specified-routing');
  }
  const domain = recipient.slice(recipient.lastIndexOf('@') + 1).toLowerCase().replace(/\.$/, '');
  if (recipient.includes('@') && policy.acceptedDomains.has(domain)) {
    return allow(`relay:accepted-domain ${domain}`, 'Accepted', 250, '2.1.5');
  }
  if (grant) return grant;
  const rule = match.matched ? `relay:excluded ${match.label}` : match.unknown ? 'relay:reverse-dns-unavailable' : 'relay:not-permitted';
  return refuse(550, '5.7.1', `Unable to relay for <${recipient}>`, rule);
}

/** After DATA: the actual size of the message and of the session so far. */
export function evaluateMessageSize(policy: CompiledPolicy, messageBytes: number, sessionBytesBefore: number): Decision {
  const limits = policy.messages;
  if (limits.maxMessageBytes !== null && messageBytes > limits.maxMessageBytes) {
    return refuse(552, '5.3.4', `Message size exceeds fixed maximum message size ${limits.maxMessageBytes}`, 'messages:size-limit');
  }
  if (limits.maxSessionBytes !== null && sessionBytesBefore + messageBytes > limits.maxSessionBytes) {
    return refuse(552, '5.3.4', 'Session size limit exceeded', 'messages:session-size-limit');
  }
  return allow('data:accepted', 'Queued', 250);
}
