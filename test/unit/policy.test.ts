// server/policy by tables: each case is settings + facts in, the expected reply and rule out.
import { describe, expect, it } from 'vitest';
import { type AccessSettings, addressRuleSchema, DEFAULT_ACCESS, DEFAULT_MESSAGES, type MessageSettings, parseAddressRuleText, trustedDeviceSchema } from '../../server/contract/settings';
import {
  compilePolicy, evaluateAuthCommand, evaluateConnection, evaluateEhloAuth, evaluateMailFrom, evaluateMessageSize, evaluateRecipient,
  evaluateTlsFailure, evaluateTlsSession, matchTrustedDevice, type ReverseName, type SessionFacts,
} from '../../server/policy/session-policy';
import { accessSummary } from '../../server/contract/risk';
import { compileAddressList, matchAddress } from '../../server/policy/address-list';
import { loggableCommand } from '../../server/policy/protocol-policy';

function policy(options: { access?: Partial<AccessSettings>; messages?: Partial<MessageSettings>; connection?: string[]; relay?: string[]; domains?: string[] } = {}) {
  return compilePolicy({
    access: { ...DEFAULT_ACCESS, ...options.access },
    messages: { ...DEFAULT_MESSAGES, ...options.messages },
    connectionRules: (options.connection ?? []).map((t) => addressRuleSchema.parse(parseAddressRuleText(t))),
    relayRules: (options.relay ?? []).map((t) => addressRuleSchema.parse(parseAddressRuleText(t))),
  }, options.domains ?? ['example.com']);
}

const confirmed = (name: string): ReverseName => ({ status: 'confirmed', name });
const TLS = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', bits: 256 };
const facts = (over: Partial<SessionFacts> = {}): SessionFacts => ({
  address: '192.0.2.10', reverseName: { status: 'skipped' }, tls: TLS, user: null, messagesAccepted: 0, ...over,
});

describe('connection control', () => {
  const cases: Array<{ desc: string; mode: 'only-list' | 'all-except'; list: string[]; address: string; reverse?: ReverseName; code: number; rule: string }> = [
    { desc: 'empty all-except list admits everyone', mode: 'all-except', list: [], address: '192.0.2.1', code: 220, rule: 'connection:not-excluded' },
    { desc: 'excluded single IPv4', mode: 'all-except', list: ['127.0.0.2'], address: '127.0.0.2', code: 554, rule: 'connection:excluded 127.0.0.2' },
    { desc: 'IPv4-mapped client matches IPv4 entry', mode: 'all-except', list: ['127.0.0.2'], address: '::ffff:127.0.0.2', code: 554, rule: 'connection:excluded 127.0.0.2' },
    { desc: 'other IPv4 not excluded', mode: 'all-except', list: ['127.0.0.2'], address: '127.0.0.3', code: 220, rule: 'connection:not-excluded' },
    { desc: 'subnet by mask', mode: 'only-list', list: ['192.168.10.0/255.255.255.0'], address: '192.168.10.77', code: 220, rule: 'connection:listed 192.168.10.0/24' },
    { desc: 'subnet by CIDR, outside', mode: 'only-list', list: ['192.168.10.0/24'], address: '192.168.11.1', code: 554, rule: 'connection:not-listed' },
    { desc: 'non-aligned network is normalised', mode: 'only-list', list: ['10.1.2.3/8'], address: '10.200.0.1', code: 220, rule: 'connection:listed 10.0.0.0/8' },
    { desc: 'IPv6 single', mode: 'only-list', list: ['::1'], address: '::1', code: 220, rule: 'connection:listed ::1' },
    { desc: 'IPv6 prefix', mode: 'only-list', list: ['2001:db8:abcd::/48'], address: '2001:db8:abcd:12::5', code: 220, rule: 'connection:listed 2001:db8:abcd::/48' },
    { desc: 'IPv6 outside prefix', mode: 'only-list', list: ['2001:db8:abcd::/48'], address: '2001:db8:abce::5', code: 554, rule: 'connection:not-listed' },
    { desc: 'most specific entry names the match', mode: 'all-except', list: ['10.0.0.0/8', '10.1.0.0/16'], address: '10.1.2.3', code: 554, rule: 'connection:excluded 10.1.0.0/16' },
    { desc: 'domain entry matches sub-domain', mode: 'only-list', list: ['office.example'], address: '198.51.100.7', reverse: confirmed('pc7.lan.office.example'), code: 220, rule: 'connection:listed domain office.example' },
    { desc: 'domain entry does not match a look-alike', mode: 'only-list', list: ['office.example'], address: '198.51.100.7', reverse: confirmed('evil-office.example'), code: 554, rule: 'connection:not-listed' },
    { desc: 'only-list with domain entries and failed lookup refuses', mode: 'only-list', list: ['office.example'], address: '198.51.100.7', reverse: { status: 'failed' }, code: 554, rule: 'connection:not-listed (reverse DNS unavailable)' },
    { desc: 'all-except with domain entries and failed lookup defers, never guesses', mode: 'all-except', list: ['spam.example'], address: '198.51.100.7', reverse: { status: 'failed' }, code: 421, rule: 'connection:reverse-dns-unavailable' },
    { desc: 'all-except with domain entries and no PTR admits', mode: 'all-except', list: ['spam.example'], address: '198.51.100.7', reverse: { status: 'none' }, code: 220, rule: 'connection:not-excluded' },
    { desc: 'excluded domain', mode: 'all-except', list: ['spam.example'], address: '198.51.100.7', reverse: confirmed('host.spam.example'), code: 554, rule: 'connection:excluded domain spam.example' },
  ];
  it.each(cases)('$desc', ({ mode, list, address, reverse, code, rule }) => {
    const decision = evaluateConnection(policy({ access: { connectionMode: mode }, connection: list }), { address, reverseName: reverse ?? { status: 'skipped' } });
    expect(decision.code).toBe(code);
    expect(decision.rule).toBe(rule);
    if (code === 554) expect(decision).toMatchObject({ enhanced: '5.7.1', close: true });
  });
});

describe('EHLO AUTH advertisement and the AUTH command', () => {
  it.each([
    { desc: 'basic requires TLS: nothing before TLS', access: {}, tls: false, expected: [] },
    { desc: 'basic requires TLS: PLAIN LOGIN after TLS', access: { requireSecureChannel: false }, tls: true, expected: ['PLAIN', 'LOGIN'] },
    { desc: 'CRAM-MD5 may be offered before TLS', access: { requireSecureChannel: false, cramMd5: true }, tls: false, expected: ['CRAM-MD5'] },
    { desc: 'secure channel hides everything before TLS', access: { requireSecureChannel: true, cramMd5: true }, tls: false, expected: [] },
    { desc: 'basic without TLS requirement', access: { requireSecureChannel: false, basicRequiresTls: false }, tls: false, expected: ['PLAIN', 'LOGIN'] },
    { desc: 'basic off', access: { basicAuth: false }, tls: true, expected: [] },
  ])('$desc', ({ access, tls, expected }) => {
    expect(evaluateEhloAuth(policy({ access }), tls)).toEqual(expected);
  });

  it.each([
    { desc: 'PLAIN before TLS when basic requires TLS', access: { requireSecureChannel: false }, tls: false, mech: 'PLAIN', code: 538, enhanced: '5.7.11' },
    { desc: 'PLAIN before TLS under secure channel', access: {}, tls: false, mech: 'PLAIN', code: 530, enhanced: '5.7.0' },
    { desc: 'PLAIN after TLS', access: {}, tls: true, mech: 'plain', code: 334, enhanced: '' },
    { desc: 'CRAM-MD5 not enabled', access: {}, tls: true, mech: 'CRAM-MD5', code: 504, enhanced: '5.5.4' },
    { desc: 'XOAUTH2 never offered to clients', access: {}, tls: true, mech: 'XOAUTH2', code: 504, enhanced: '5.5.4' },
  ])('$desc', ({ access, tls, mech, code, enhanced }) => {
    const decision = evaluateAuthCommand(policy({ access }), { tls: tls ? TLS : null, user: null }, mech);
    expect([decision.code, decision.enhanced]).toEqual([code, enhanced]);
  });
});

describe('strong encryption', () => {
  it.each([
    { desc: 'TLS 1.3 AEAD', strong: true, legacy: false, tls: TLS, ok: true },
    { desc: 'TLS 1.2 GCM', strong: true, legacy: false, tls: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', bits: 128 }, ok: true },
    { desc: 'TLS 1.2 CBC refused when strong', strong: true, legacy: false, tls: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-SHA256', bits: 128 }, ok: false },
    { desc: 'TLS 1.2 CBC allowed when not strong', strong: false, legacy: false, tls: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-SHA256', bits: 128 }, ok: true },
    { desc: 'TLS 1.0 refused without opt-in', strong: false, legacy: false, tls: { protocol: 'TLSv1', cipher: 'ECDHE-RSA-AES128-SHA', bits: 128 }, ok: false },
    { desc: 'TLS 1.0 allowed with opt-in (nobody signs in)', strong: false, legacy: true, deviceOnly: true, tls: { protocol: 'TLSv1', cipher: 'ECDHE-RSA-AES128-SHA', bits: 128 }, ok: true },
    { desc: 'TLS 1.0 refused with opt-in when strong', strong: true, legacy: true, tls: { protocol: 'TLSv1', cipher: 'ECDHE-RSA-AES128-SHA', bits: 128 }, ok: false },
    { desc: '3DES never', strong: false, legacy: true, tls: { protocol: 'TLSv1.2', cipher: 'DES-CBC3-SHA', bits: 112 }, ok: false },
  ])('$desc', ({ strong, legacy, tls, ok, deviceOnly }) => {
    const decision = evaluateTlsSession(policy({ access: { requireStrongEncryption: strong, allowLegacyTls: legacy, ...(deviceOnly ? { basicAuth: false, cramMd5: false } : {}) } }), tls);
    expect(decision.verdict === 'allow').toBe(ok);
  });
});

describe('MAIL FROM', () => {
  const alice = { name: 'alice@example.com', senders: ['sales@example.com', '@shop.example'] };
  it.each([
    { desc: 'secure channel before anything else', access: {}, f: facts({ tls: null }), from: 'a@b.c', size: null, code: 530, rule: 'access:require-secure-channel' },
    { desc: 'authentication required', access: {}, f: facts(), from: 'a@b.c', size: null, code: 530, rule: 'access:anonymous-disabled' },
    { desc: 'anonymous allowed', access: { anonymous: true }, f: facts(), from: 'a@b.c', size: null, code: 250, rule: 'mail:accepted' },
    { desc: 'declared size over limit', access: { anonymous: true }, f: facts(), from: 'a@b.c', size: 30 * 1024 * 1024, code: 552, rule: 'messages:size-limit' },
    { desc: 'per-connection message limit', access: { anonymous: true }, f: facts({ messagesAccepted: 100 }), from: 'a@b.c', size: null, code: 421, rule: 'messages:per-connection-limit' },
    { desc: 'own address when senders restricted', access: { restrictSenders: true }, f: facts({ user: alice }), from: 'Alice@Example.com', size: null, code: 250, rule: 'mail:accepted' },
    { desc: 'listed address', access: { restrictSenders: true }, f: facts({ user: alice }), from: 'sales@example.com', size: null, code: 250, rule: 'mail:accepted' },
    { desc: 'listed domain', access: { restrictSenders: true }, f: facts({ user: alice }), from: 'anyone@shop.example', size: null, code: 250, rule: 'mail:accepted' },
    { desc: 'foreign address refused', access: { restrictSenders: true }, f: facts({ user: alice }), from: 'ceo@example.com', size: null, code: 553, rule: 'access:restrict-senders' },
    { desc: 'foreign address fine without restriction', access: {}, f: facts({ user: alice }), from: 'ceo@example.com', size: null, code: 250, rule: 'mail:accepted' },
    { desc: 'disk below its floor', access: {}, f: facts({ user: alice, storageLow: true }), from: 'alice@example.com', size: null, code: 452, rule: 'storage:disk-space-low' },
    { desc: 'unknown parameter', access: {}, f: facts({ user: alice }), from: 'alice@example.com', size: null, params: ['X-INJECT'], code: 555, rule: 'syntax:unknown-mail-parameter' },
    { desc: 'known parameters', access: {}, f: facts({ user: alice }), from: 'alice@example.com', size: null, params: ['SIZE', 'body', 'SMTPUTF8', 'AUTH'], code: 250, rule: 'mail:accepted' },
    { desc: 'DSN parameters are not offered', access: {}, f: facts({ user: alice }), from: 'alice@example.com', size: null, params: ['RET'], code: 555, rule: 'syntax:unknown-mail-parameter' },
  ])('$desc', ({ access, f, from, size, code, rule, params }) => {
    const decision = evaluateMailFrom(policy({ access }), f, from, size, params);
    expect([decision.code, decision.rule]).toEqual([code, rule]);
  });
});

describe('RCPT TO and relay', () => {
  const user = { name: 'alice', senders: [] };
  it.each([
    { desc: 'accepted domain for anonymous', access: { anonymous: true }, f: facts(), to: 'bob@example.com', code: 250, rule: 'relay:accepted-domain example.com' },
    { desc: 'accepted domain is case-insensitive', access: { anonymous: true }, f: facts(), to: 'bob@EXAMPLE.com', code: 250, rule: 'relay:accepted-domain example.com' },
    { desc: 'relay refused for anonymous', access: { anonymous: true }, f: facts(), to: 'x@elsewhere.net', code: 550, rule: 'relay:not-permitted' },
    { desc: 'authenticated may relay', access: {}, f: facts({ user }), to: 'x@elsewhere.net', code: 250, rule: 'relay:authenticated' },
    { desc: 'authenticated relay switched off', access: { relayForAuthenticated: false }, f: facts({ user }), to: 'x@elsewhere.net', code: 550, rule: 'relay:not-permitted' },
    { desc: 'listed relay subnet', access: { anonymous: true }, relay: ['192.0.2.0/24'], f: facts(), to: 'x@elsewhere.net', code: 250, rule: 'relay:listed 192.0.2.0/24' },
    { desc: 'all-except relay with excluded address', access: { anonymous: true, relayMode: 'all-except' as const }, relay: ['192.0.2.10'], f: facts(), to: 'x@elsewhere.net', code: 550, rule: 'relay:excluded 192.0.2.10' },
    { desc: 'all-except relay, not excluded (open relay by choice)', access: { anonymous: true, relayMode: 'all-except' as const }, relay: [], f: facts(), to: 'x@elsewhere.net', code: 250, rule: 'relay:not-excluded' },
    { desc: 'all-except relay with domain entry and failed DNS refuses', access: { anonymous: true, relayMode: 'all-except' as const }, relay: ['bad.example'], f: facts({ reverseName: { status: 'failed' } }), to: 'x@elsewhere.net', code: 550, rule: 'relay:reverse-dns-unavailable' },
    { desc: 'gate first: secure channel', access: {}, f: facts({ tls: null, user }), to: 'bob@example.com', code: 530, rule: 'access:require-secure-channel' },
  ])('$desc', ({ access, relay, f, to, code, rule }) => {
    const decision = evaluateRecipient(policy({ access, relay }), f, to, 0);
    expect([decision.code, decision.rule]).toEqual([code, rule]);
    if (code === 550) expect(decision.text).toBe(`Unable to relay for <${to}>`);
  });

  it.each([
    { desc: '% routing to an accepted domain, anonymous', access: { anonymous: true }, f: facts(), to: 'x%elsewhere.net@example.com', code: 550, rule: 'relay:sender-specified-routing' },
    { desc: '! routing to an accepted domain, anonymous', access: { anonymous: true }, f: facts(), to: 'elsewhere.net!x@example.com', code: 550, rule: 'relay:sender-specified-routing' },
    { desc: 'quoted @ in the local part', access: { anonymous: true }, f: facts(), to: '"x@elsewhere.net"@example.com', code: 550, rule: 'relay:sender-specified-routing' },
    { desc: 'routing from a client that may relay anyway', access: {}, f: facts({ user }), to: 'x%elsewhere.net@example.com', code: 250, rule: 'relay:accepted-domain example.com' },
    { desc: 'routing from a listed relay client', access: { anonymous: true }, relay: ['192.0.2.0/24'], f: facts(), to: 'x%elsewhere.net@example.com', code: 250, rule: 'relay:accepted-domain example.com' },
    { desc: 'unknown RCPT parameter', access: { anonymous: true }, f: facts(), to: 'bob@example.com', params: ['NOTIFY'], code: 555, rule: 'syntax:unknown-rcpt-parameter' },
  ])('$desc', ({ access, relay, f, to, code, rule, params }) => {
    const decision = evaluateRecipient(policy({ access, relay }), f, to, 0, params);
    expect([decision.code, decision.rule]).toEqual([code, rule]);
  });

  it('limits recipients per message with 452 4.5.3', () => {
    const p = policy({ access: { anonymous: true }, messages: { maxRecipientsPerMessage: 2 } });
    expect(evaluateRecipient(p, facts(), 'a@example.com', 1).code).toBe(250);
    expect(evaluateRecipient(p, facts(), 'a@example.com', 2)).toMatchObject({ code: 452, enhanced: '4.5.3', rule: 'messages:recipient-limit' });
  });
});

describe('message and session size', () => {
  it.each([
    { desc: 'under the limit', max: 1000, session: null, bytes: 1000, before: 0, code: 250 },
    { desc: 'over the limit', max: 1000, session: null, bytes: 1001, before: 0, code: 552 },
    { desc: 'session total over', max: null, session: 5000, bytes: 3000, before: 2500, code: 552 },
    { desc: 'no limits', max: null, session: null, bytes: 10 ** 9, before: 10 ** 9, code: 250 },
  ])('$desc', ({ max, session, bytes, before, code }) => {
    const decision = evaluateMessageSize(policy({ messages: { maxMessageBytes: max, maxSessionBytes: session } }), bytes, before);
    expect(decision.code).toBe(code);
    if (code === 552) expect(decision.enhanced).toBe('5.3.4');
  });
});

describe('address lists at scale', () => {
  it('matches in a list of 10,000 entries by the most specific entry', () => {
    const rules = Array.from({ length: 10_000 }, (_, i) => addressRuleSchema.parse({ kind: 'address', address: `10.${(i >> 8) & 255}.${i & 255}.1` }));
    rules.push(addressRuleSchema.parse({ kind: 'subnet', network: '10.0.0.0', prefix: 8 }));
    const list = compileAddressList(rules);
    expect(matchAddress(list, '10.0.5.1')).toBe('10.0.5.1');
    expect(matchAddress(list, '10.0.5.2')).toBe('10.0.0.0/8');
    expect(matchAddress(list, '11.0.0.1')).toBeNull();
    expect(list.prefixes).toEqual([128, 104]);
  });
});

describe('trusted devices', () => {
  const printer = trustedDeviceSchema.parse({ name: 'Printer', match: { kind: 'address', address: '192.0.2.10' }, senders: ['scan@example.com', '@branch.example'], recipientDomains: [], perHour: 5 });
  const app = trustedDeviceSchema.parse({ name: 'App', match: { kind: 'subnet', network: '192.0.2.0', prefix: 24 }, recipientDomains: ['example.com'], allowWithoutTls: true });
  const p = policy({ access: { trustedDevices: [printer, app] } });
  const device = (address: string) => matchTrustedDevice(p, address);
  it('finds the first entry that matches the address', () => {
    expect(device('192.0.2.10')?.name).toBe('Printer');
    expect(device('192.0.2.11')?.name).toBe('App');
    expect(device('198.51.100.1')).toBeNull();
  });
  it.each([
    { desc: 'device without AUTH may send as its sender', f: facts({ device: printer }), from: 'scan@example.com', code: 250, rule: 'mail:trusted-device Printer' },
    { desc: 'device sender by domain', f: facts({ device: printer }), from: 'anyone@branch.example', code: 250, rule: 'mail:trusted-device Printer' },
    { desc: 'device with another sender', f: facts({ device: printer }), from: 'ceo@example.com', code: 550, rule: 'device:sender-not-allowed Printer' },
    { desc: 'device over its hourly limit', f: facts({ device: printer, rate: { messagesLastHour: 5, recipientsLastDay: 0 } }), from: 'scan@example.com', code: 452, rule: 'device:rate-limit Printer' },
    { desc: 'device without TLS when TLS is required of it', f: facts({ device: printer, tls: null }), from: 'scan@example.com', code: 530, rule: 'device:tls-required Printer' },
    { desc: 'device that may send without TLS, secure channel required', f: facts({ address: '192.0.2.11', device: app, tls: null }), from: 'x@example.com', code: 250, rule: 'mail:trusted-device App' },
    { desc: 'not a device: authentication required', f: facts({ address: '198.51.100.1' }), from: 'x@example.com', code: 530, rule: 'access:anonymous-disabled' },
    { desc: 'a signed-in user at a device address is a user', f: facts({ device: printer, user: { name: 'alice', senders: [] } }), from: 'ceo@example.com', code: 250, rule: 'mail:accepted' },
  ])('$desc', ({ f, from, code, rule }) => {
    expect([evaluateMailFrom(p, f, from, null).code, evaluateMailFrom(p, f, from, null).rule]).toEqual([code, rule]);
  });
  it.each([
    { desc: 'device relays', f: facts({ device: printer }), to: 'x@partner.example', code: 250, rule: 'relay:trusted-device Printer' },
    { desc: 'device outside its recipient domains', f: facts({ address: '192.0.2.11', device: app }), to: 'x@partner.example', code: 550, rule: 'device:recipient-domain-not-allowed App' },
    { desc: 'device inside its recipient domains (sub-domain)', f: facts({ address: '192.0.2.11', device: app }), to: 'x@sales.example.com', code: 250, rule: 'relay:trusted-device App' },
    { desc: 'user over recipients per day', f: facts({ user: { name: 'alice', senders: [], recipientsPerDay: 10 }, rate: { messagesLastHour: 0, recipientsLastDay: 9 } }), to: 'x@partner.example', code: 452, rule: 'user:recipients-per-day', soFar: 1 },
  ])('$desc', ({ f, to, code, rule, soFar }) => {
    const decision = evaluateRecipient(p, f, to, soFar ?? 0);
    expect([decision.code, decision.rule]).toEqual([code, rule]);
  });
  it('old TLS only where nobody signs in', () => {
    const legacy = { protocol: 'TLSv1', cipher: 'ECDHE-RSA-AES256-SHA', bits: 256 };
    expect(evaluateTlsSession(policy({ access: { allowLegacyTls: true, requireStrongEncryption: false } }), legacy).rule).toBe('tls:legacy-protocol');
    expect(evaluateTlsSession(policy({ access: { allowLegacyTls: true, requireStrongEncryption: false, basicAuth: false, cramMd5: false } }), legacy).verdict).toBe('allow');
  });
  it.each([
    { code: 'ERR_SSL_UNSUPPORTED_PROTOCOL', rule: 'tls:legacy-protocol', text: /offers only TLS 1\.1 or older; this server requires TLS 1\.2/ },
    { code: 'ERR_SSL_NO_SHARED_CIPHER', rule: 'tls:weak-cipher', text: /no cipher in common: the client offers none of the strong ciphers/ },
    { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', rule: 'tls:certificate-not-trusted', text: /does not accept this server's certificate \(unknown ca\)/ },
    { code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', rule: 'tls:certificate-not-trusted', text: /\(bad certificate\)/ },
    { code: 'ERR_SSL_HTTP_REQUEST', rule: 'tls:not-tls', text: /did not speak TLS/ },
    { code: null, rule: 'tls:handshake-abandoned', text: /^TLS handshake not completed: the client closed the connection$/ },
    { code: 'ERR_TLS_HANDSHAKE_TIMEOUT', rule: 'tls:handshake-abandoned', text: /stopped answering/ },
    { code: 'ERR_SSL_SOMETHING_NEW', rule: 'tls:handshake-failed', text: /^TLS handshake failed: something new$/ },
  ])('a failed TLS handshake ($code): $rule, no reply code', ({ code, rule, text }) => {
    const decision = evaluateTlsFailure(policy({}), { code, reason: code ? code.replace('ERR_SSL_', '').replace(/_/g, ' ').toLowerCase() : null });
    expect(decision).toMatchObject({ verdict: 'refuse', code: 0, enhanced: '', rule, close: true });
    expect(decision.text).toMatch(text);
  });
  it('a handshake that timed out: a client that sent nothing waits for a greeting (plain SMTP on the TLS port); one that stopped midway left', () => {
    expect(evaluateTlsFailure(policy({}), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT', reason: null, clientSentNothing: true }).rule).toBe('tls:plain-on-tls-port');
    expect(evaluateTlsFailure(policy({}), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT', reason: null, clientSentNothing: false }).rule).toBe('tls:handshake-abandoned');
  });
  it('a failed TLS handshake on a server that allows legacy TLS does not tell the admin to allow it', () => {
    const legacyAllowed = policy({ access: { allowLegacyTls: true, requireStrongEncryption: false, basicAuth: false, cramMd5: false } });
    expect(evaluateTlsFailure(legacyAllowed, { code: 'ERR_SSL_UNSUPPORTED_PROTOCOL', reason: 'unsupported protocol' }).text).toBe('TLS handshake failed: the client and this server have no TLS version in common');
    expect(evaluateTlsFailure(legacyAllowed, { code: 'ERR_SSL_NO_SHARED_CIPHER', reason: null }).text).toContain('offers only ciphers this server refuses');
  });
});

describe('the access line serve prints at start', () => {
  const server = (access: Partial<AccessSettings>, relayRules: Array<{ kind: 'subnet'; network: string; prefix: number }> = []) => ({ access: { ...DEFAULT_ACCESS, ...access }, relayRules });

  it('names the secure defaults only when the settings are the secure defaults', () => {
    expect(accessSummary(server({}))).toBe('sign-in required, TLS required, relay only for signed-in users (the secure defaults)');
    expect(accessSummary(server({ anonymous: true, requireSecureChannel: false }, [{ kind: 'subnet', network: '127.0.0.0', prefix: 8 }])))
      .toBe('clients may submit without signing in, TLS required to sign in only, relay for 1 listed computer(s) and signed-in users');
    expect(accessSummary(server({ requireSecureChannel: false, basicRequiresTls: false }))).toBe('sign-in required, TLS not required, relay only for signed-in users');
    expect(accessSummary(server({ anonymous: true, relayMode: 'all-except' }))).toBe('clients may submit without signing in, TLS required, relay for every computer (an open relay)');
    expect(accessSummary(server({ relayForAuthenticated: false }))).toBe('sign-in required, TLS required, relay for nobody');
  });
});

describe('loggableCommand', () => {
  it('names the command a refusal answered, never a credential or an unknown line', () => {
    expect(loggableCommand('rcpt to:<a@example.com>')).toBe('rcpt to:<a@example.com>');
    expect(loggableCommand('MAIL FROM:<a@example.com> SIZE=10')).toBe('MAIL FROM:<a@example.com> SIZE=10');
    expect(loggableCommand('data')).toBe('DATA');
    expect(loggableCommand('NOOP whatever')).toBe('NOOP');
    expect(loggableCommand('AUTH PLAIN AGFsaWNlAHNlY3JldA==')).toBe('AUTH PLAIN');
    expect(loggableCommand('AUTH')).toBe('AUTH');
    expect(loggableCommand('AUTH AGFsaWNlAHNlY3JldA==/+')).toBe('AUTH');
    expect(loggableCommand('c2VjcmV0LXBhc3N3b3Jk')).toBeNull();
    expect(loggableCommand('FROB secret')).toBeNull();
    expect(loggableCommand('')).toBeNull();
    expect(loggableCommand('EHLO a\x00b')).toBe('EHLO a b');
    expect(loggableCommand(`HELO ${'x'.repeat(300)}`)).toHaveLength(201);
  });
});
