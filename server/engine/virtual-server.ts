// One running virtual server: its listeners (STARTTLS port, optional implicit-TLS port) on
// smtp-server, its live sessions, and the mapping of policy decisions to SMTP replies. The
// engine owns the wire; what to answer comes from server/policy, unchanged.
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerAuthenticationResponse, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { VirtualServerConfig } from '../contract/settings';
import type { SessionEvent } from '../contract/events';
import type { LiveSession } from '../contract/admin-api';
import type { Decision } from '../policy/decision';
import { type BindFailure, bindFailureOf } from './bind-error';
import {
  type CompiledPolicy, evaluateAuthCommand, evaluateConnection, evaluateEhloAuth, evaluateMailFrom, evaluateMessageSize,
  evaluateRecipient, evaluateTlsFailure, evaluateTlsSession, matchTrustedDevice, needsReverseLookup, offeredMechanisms, type ReverseName, type SessionFacts,
  type TlsFacts, type UserFacts,
} from '../policy/session-policy';
import type { Authenticator } from '../auth/authenticator';
import type { AuthThrottle } from '../auth/throttle';
import type { KnownLoginAddresses } from '../auth/known-addresses';
import type { ReverseResolver } from '../dns/reverse-resolver';
import type { EventBus } from '../log/event-bus';
import { type Spool, SpoolError } from '../spool/spool';
import { cipherBits, type TlsServerOptions } from '../tls/tls-options';
import { applySmtpServerPatches, type HookConnection, type RelaydeskHooks, SMTPServer } from './smtp-server-patches';
import { classifyProtocolReply, evaluateCredentials, evaluatePaused, evaluateProtocolEvent, evaluateQueued, evaluateSpoolFailure, evaluateThrottle } from '../policy/protocol-policy';
import type { Socket } from 'node:net';
import type { RateCounters } from './rate-counters';
import { receivedHeader } from './trace-header';
import type { TrustedDevice } from '../contract/settings';

applySmtpServerPatches();

/** RFC 5321 §4.5.3.1.4: 512 octets including CRLF. */
const MAX_COMMAND_LENGTH = 510;
const CLOSE_GRACE_MS = 30_000;

export interface RuntimeSettings {
  config: VirtualServerConfig;
  policy: CompiledPolicy;
  /** null when no certificate is assigned: STARTTLS is not offered and an implicit-TLS port cannot start. */
  tls: (TlsServerOptions & { sniOptions: Record<string, TlsServerOptions> }) | null;
  /** Accepted domains delivered to the drop folder are 'local'; everything else is 'remote'. */
  routeOf(domain: string): 'local' | 'remote';
}

export interface EngineDeps {
  bus: EventBus;
  spool: Spool;
  authenticator: Authenticator;
  throttle: AuthThrottle;
  /** Addresses each user signed in from recently: failures elsewhere never block the user there. */
  knownAddresses: KnownLoginAddresses;
  /** The data folder's disk is below its free-space floor (the disk watch says so). */
  storageLow(): boolean;
  /** A write failed for lack of space: measure the disk now. */
  storageFailed(): void;
  /** What each limited sender (user or trusted device) sent recently. */
  rates: RateCounters;
  /** The resolver for a server's configured external DNS servers (shared per list, for its cache). */
  resolverFor(dnsServers: readonly string[]): ReverseResolver;
  now(): Date;
}

export interface SessionInfo {
  id: string;
  server: string;
  address: string;
  localPort: number;
  reverseName: ReverseName;
  startedAt: Date;
  tls: TlsFacts | null;
  user: UserFacts | null;
  mechanism: string | null;
  /** The trusted device the client is (when it did not sign in), by name. */
  device: string | null;
  messagesAccepted: number;
  sessionBytes: number;
  state: 'connected' | 'mail' | 'data' | 'closing';
  /** How the client last greeted (HELO: an old client; its mail is received "with SMTP"). */
  greeting?: 'EHLO' | 'HELO';
}

export interface ListenerStatus { address: string; port: number; mode: 'starttls' | 'implicit-tls' }
export interface StartResult { listening: ListenerStatus[]; failures: BindFailure[] }

type SmtpError = Error & { responseCode: number };

function smtpError(decision: Pick<Decision, 'code' | 'enhanced' | 'text'>): SmtpError {
  return Object.assign(new Error(`${decision.enhanced} ${decision.text}`), { responseCode: decision.code });
}

/** The addresses "all" means: IPv6 any (dual stack) where the machine has IPv6, else IPv4 any. */
function bindHost(bindAddress: string): string {
  return bindAddress === 'all' ? '::' : bindAddress;
}

export class VirtualServer {
  readonly sessions = new Map<string, SessionInfo>();
  private listeners: Array<{ smtp: SMTPServer; status: ListenerStatus }> = [];
  private paused = false;
  /** Each open connection's socket, for the byte counts the log and Current sessions show. */
  private readonly sockets = new Map<string, Socket>();

  constructor(private settings: RuntimeSettings, private readonly deps: EngineDeps) {}

  get name(): string {
    return this.settings.config.name;
  }

  get config(): VirtualServerConfig {
    return this.settings.config;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  listening(): ListenerStatus[] {
    return this.listeners.map((l) => l.status);
  }

  /** Open the listeners; a port that cannot be bound is reported, not thrown. */
  async start(): Promise<StartResult> {
    const { config } = this.settings;
    const wanted: Array<{ port: number; implicit: boolean }> = [{ port: config.port, implicit: false }];
    if (config.tlsPort !== null) wanted.push({ port: config.tlsPort, implicit: true });
    const result: StartResult = { listening: [], failures: [] };
    for (const { port, implicit } of wanted) {
      if (implicit && !this.settings.tls) {
        result.failures.push({ address: config.bindAddress, port, message: 'the implicit-TLS port needs a certificate; assign one to this server', retryable: false });
        continue;
      }
      const smtp = new SMTPServer(this.smtpOptions(implicit));
      try {
        const status = await this.listen(smtp, config.bindAddress, port, implicit);
        this.listeners.push({ smtp, status });
        result.listening.push(status);
      } catch (err) {
        result.failures.push(bindFailureOf(err as NodeJS.ErrnoException, config.bindAddress, port));
      }
    }
    if (result.failures.length > 0 && result.listening.length > 0) {
      // Half a server is worse than none: the admin fixes the port and starts it again.
      await this.stop(0);
      result.listening = [];
    }
    return result;
  }

  private listen(smtp: SMTPServer, bindAddress: string, port: number, implicit: boolean): Promise<ListenerStatus> {
    // smtp-server re-emits listener and socket errors on itself; without a listener they would
    // crash the process. Bind errors are reported through the promise below, the rest per session.
    smtp.on('error', () => undefined);
    const attempt = (host: string) => new Promise<ListenerStatus>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      smtp.server.once('error', onError);
      smtp.server.listen({ host, port, ipv6Only: false }, () => {
        smtp.server.removeListener('error', onError);
        const address = smtp.server.address();
        const actualPort = typeof address === 'object' && address ? address.port : port;
        resolve({ address: bindAddress === 'all' ? 'all' : bindAddress, port: actualPort, mode: implicit ? 'implicit-tls' : 'starttls' });
      });
    });
    return attempt(bindHost(bindAddress)).catch((err: NodeJS.ErrnoException) => {
      if (bindAddress === 'all' && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL')) return attempt('0.0.0.0');
      throw err;
    });
  }

  /** Stop accepting; sessions finish what they are doing (in-flight DATA included) within graceMs. */
  async stop(graceMs = CLOSE_GRACE_MS): Promise<void> {
    const listeners = this.listeners;
    this.listeners = [];
    await Promise.all(listeners.map(({ smtp }) => new Promise<void>((resolve) => {
      smtp.options.closeTimeout = Math.max(graceMs, 1);
      smtp.close(() => resolve());
    })));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** The sessions open right now, with their byte counts, for "Current sessions". */
  liveSessions(): LiveSession[] {
    return [...this.sessions.values()].map((s) => ({
      id: s.id, server: s.server, address: s.address, reverseName: s.reverseName.status === 'confirmed' ? s.reverseName.name : null,
      state: s.state, tlsProtocol: s.tls?.protocol ?? null, tlsCipher: s.tls?.cipher ?? null, user: s.user?.name ?? null, device: s.user ? null : s.device,
      mechanism: s.mechanism, startedAt: s.startedAt.toISOString(), bytesIn: this.sockets.get(s.id)?.bytesRead ?? 0,
      bytesOut: this.sockets.get(s.id)?.bytesWritten ?? 0, messages: s.messagesAccepted,
    }));
  }

  /** Terminate one session: 421 4.3.2, then close. */
  terminate(sessionId: string): boolean {
    for (const { smtp } of this.listeners) {
      for (const connection of smtp.connections) {
        const c = connection as unknown as { id: string; send(code: number, text: string): void };
        if (c.id === sessionId) {
          c.send(421, '4.3.2 Session terminated by the administrator');
          return true;
        }
      }
    }
    return false;
  }

  /** Would these settings need new listeners (address or ports changed)? */
  needsRebind(next: VirtualServerConfig): boolean {
    const current = this.settings.config;
    return current.bindAddress !== next.bindAddress || current.port !== next.port || current.tlsPort !== next.tlsPort;
  }

  /** Apply new settings to running listeners: policy at once, TLS for new handshakes, sessions kept. */
  update(settings: RuntimeSettings): void {
    this.settings = settings;
    for (const { smtp, status } of this.listeners) {
      Object.assign(smtp.options, this.limitOptions(status.mode === 'implicit-tls'));
      if (settings.tls) smtp.updateSecureContext({ ...settings.tls });
    }
  }

  private limitOptions(implicit: boolean): Partial<SMTPServerOptions> {
    const { config } = this.settings;
    return {
      name: config.fqdn,
      banner: config.banner ?? '',
      size: config.messages.maxMessageBytes ?? 0,
      authMethods: offeredMechanisms(config.access),
      maxClients: config.maxConnections ?? undefined,
      socketTimeout: config.connectionTimeoutSeconds * 1000,
      hideSTARTTLS: implicit,
      // Without a certificate there is no STARTTLS (never smtp-server's built-in test certificate).
      disabledCommands: this.settings.tls ? [] : ['STARTTLS'],
    };
  }

  private smtpOptions(implicit: boolean): SMTPServerOptions {
    const hooks: RelaydeskHooks = {
      ehloAuthMechanisms: ({ secure }) => evaluateEhloAuth(this.settings.policy, secure),
      ehloSeen: (sessionId, hostname, verb) => {
        const info = this.sessions.get(sessionId);
        if (!info) return;
        info.greeting = verb;
        this.emit(info, verb === 'HELO' ? { type: 'ehlo', hostname, helo: true } : { type: 'ehlo', hostname });
      },
      authGate: (connection, { secure, authenticated }, mechanism) => {
        const decision = evaluateAuthCommand(this.settings.policy, { tls: secure ? PRESENT_TLS : null, user: authenticated ? ANONYMOUS_USER : null }, mechanism);
        if (decision.verdict === 'allow') return null;
        this.emit(this.infoFor(connection), { type: 'auth', mechanism: mechanism.toUpperCase(), login: '', outcome: 'refused', decision });
        return decision;
      },
      protocolEvent: (connection, event) => {
        const decision = evaluateProtocolEvent(event);
        this.emit(this.infoFor(connection), { type: 'reply', command: null, decision });
        return decision;
      },
      socketOpened: (sessionId, socket) => { this.sockets.set(sessionId, socket); },
      stockReply: (connection, command, code, enhanced, text) => {
        this.emit(this.infoFor(connection), { type: 'reply', command, decision: classifyProtocolReply(code, enhanced, text) });
      },
      tlsFailed: (connection, failure) => {
        this.emit(this.infoFor(connection), { type: 'starttls', protocol: '', cipher: '', bits: 0, decision: evaluateTlsFailure(this.settings.policy, failure) });
      },
    };
    return {
      ...this.limitOptions(implicit),
      ...(this.settings.tls ?? {}),
      secure: implicit,
      banner: this.settings.config.banner ?? '',
      authOptional: true, // policy decides when authentication is required, and answers 530 5.7.0
      allowInsecureAuth: true, // the AUTH gate above enforces "basic requires TLS" with 538 5.7.11
      disableReverseLookup: true, // looked up by us, only when a rule needs the name
      maxCommandLength: MAX_COMMAND_LENGTH,
      closeTimeout: CLOSE_GRACE_MS,
      logger: false,
      hideREQUIRETLS: true, // we cannot promise RFC 8689 downstream yet
      hideENHANCEDSTATUSCODES: false, // RFC 2034 codes on every reply, advertised in EHLO
      hideDSN: true, // no DSN promises until delivery honours NOTIFY/RET
      relaydesk: hooks,
      onConnect: (session, callback) => { this.onConnect(session).then(() => callback(), (err: Error) => callback(err)); },
      onSecure: (socket, session, callback) => callback(this.onSecure(socket as TLSSocket, session) ?? undefined),
      onAuth: (auth, session, callback) => { this.onAuth(auth, session).then((res) => callback(null, res), (err: Error) => callback(err)); },
      onMailFrom: (address, session, callback) => callback(this.onMailFrom(address, session) ?? undefined),
      onRcptTo: (address, session, callback) => callback(this.onRcptTo(address, session) ?? undefined),
      onData: (stream, session, callback) => { this.onData(stream, session).then((id) => callback(null, `Queued as ${id}`), (err: Error) => callback(err)); },
      onClose: (session) => this.onClose(session),
    } as SMTPServerOptions & { relaydesk: RelaydeskHooks };
  }

  /**
   * The one place a session's step becomes a log event: every decision a client is answered with
   * passes here with its rule (persisting it is the log's business: "logging off" stops only that).
   */
  private emit(info: SessionInfo, event: DistributiveOmit<SessionEvent, 'at' | 'server' | 'session' | 'address' | 'user'>): void {
    const socket = this.sockets.get(info.id);
    // Six per message: one spread, then assignments (a spread per optional field was V8's slow generic copy).
    const full: SessionEvent & { device?: string; bytesIn?: number; bytesOut?: number } = {
      ...event, at: this.deps.now().toISOString(), server: info.server, session: info.id, address: info.address, user: info.user?.name ?? null,
    } as SessionEvent;
    if (info.device && !info.user) full.device = info.device;
    if (socket) {
      full.bytesIn = socket.bytesRead;
      full.bytesOut = socket.bytesWritten;
    }
    this.deps.bus.emit(full);
  }

  /** The session of a connection, or a stand-in for one refused before it had a session. */
  private infoFor(connection: HookConnection): SessionInfo {
    return this.sessions.get(connection.sessionId) ?? {
      id: connection.sessionId, server: this.name, address: connection.remoteAddress.replace(/^::ffff:/, ''), localPort: 0, reverseName: { status: 'skipped' },
      startedAt: this.deps.now(), tls: null, user: null, mechanism: null, device: null, messagesAccepted: 0, sessionBytes: 0, state: 'connected',
    };
  }

  private facts(info: SessionInfo): SessionFacts {
    // Matched anew for each command, so a change to the list applies to open sessions at once.
    const device = info.user ? null : matchTrustedDevice(this.settings.policy, info.address);
    info.device = device?.name ?? null;
    const limited = device ? device.perHour !== null : info.user ? info.user.perHour != null || info.user.recipientsPerDay != null : false;
    return {
      address: info.address, reverseName: info.reverseName, tls: info.tls, user: info.user, messagesAccepted: info.messagesAccepted,
      storageLow: this.deps.storageLow(), device, ...(limited ? { rate: this.deps.rates.read(this.rateKey(info, device)) } : {}),
    };
  }

  /** Whose rate this session's mail counts against: the signed-in user, or the trusted device. */
  private rateKey(info: SessionInfo, device: TrustedDevice | null): string {
    return info.user ? `user:${info.user.name.toLowerCase()}` : `device:${this.name.toLowerCase()}:${device?.name.toLowerCase() ?? info.address}`;
  }

  private info(session: SMTPServerSession): SessionInfo {
    const info = this.sessions.get(session.id);
    if (!info) throw smtpError({ code: 421, enhanced: '4.3.0', text: 'Session state lost, try again' });
    return info;
  }

  private async onConnect(session: SMTPServerSession): Promise<void> {
    const info: SessionInfo = {
      id: session.id, server: this.name, address: session.remoteAddress, localPort: session.localPort,
      reverseName: { status: 'skipped' }, startedAt: this.deps.now(), tls: null, user: null, mechanism: null,
      device: matchTrustedDevice(this.settings.policy, session.remoteAddress)?.name ?? null,
      messagesAccepted: 0, sessionBytes: 0, state: 'connected',
    };
    if (this.paused) {
      const decision = evaluatePaused();
      this.emit(info, { type: 'connect', port: info.localPort, decision });
      throw smtpError(decision);
    }
    if (needsReverseLookup(this.settings.policy)) {
      info.reverseName = await this.deps.resolverFor(this.settings.config.delivery.dnsServers).lookup(session.remoteAddress);
    }
    let openFromAddress = 0;
    for (const open of this.sessions.values()) if (open.address === info.address) openFromAddress++;
    const decision = evaluateConnection(this.settings.policy, info, openFromAddress);
    this.emit(info, { type: 'connect', port: info.localPort, decision });
    if (decision.verdict !== 'allow') throw smtpError(decision);
    this.sessions.set(session.id, info);
  }

  private onSecure(socket: TLSSocket, session: SMTPServerSession): Error | null {
    // Client-initiated renegotiation (TLS 1.2) only costs the server CPU: refuse it outright.
    socket.disableRenegotiation();
    const info = this.sessions.get(session.id);
    const cipher = socket.getCipher();
    const tls: TlsFacts = { protocol: socket.getProtocol() ?? 'unknown', cipher: cipher.name, bits: cipherBits(cipher.standardName ?? cipher.name) };
    const decision = evaluateTlsSession(this.settings.policy, tls);
    if (info) {
      info.tls = tls;
      this.emit(info, { type: 'starttls', ...tls, decision });
    }
    return decision.verdict === 'allow' ? null : smtpError(decision);
  }

  private async onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<SMTPServerAuthenticationResponse> {
    const info = this.info(session);
    const { access } = this.settings.config;
    const name = auth.username ?? '';
    const canonical = this.deps.authenticator.resolveUser(name, access.defaultDomain)?.name ?? name;
    const attempt = { address: info.address, user: canonical, knownAddress: this.deps.knownAddresses.isKnown(canonical, info.address) };
    const lockout = { slowAfter: access.lockout.slowAfter, blockAfter: access.lockout.blockAfter, windowMs: access.lockout.windowMinutes * 60_000, blockMs: access.lockout.blockMinutes * 60_000 };
    const blocked = this.deps.throttle.check(attempt, lockout);
    if (blocked.blocked !== null) {
      const decision = evaluateThrottle({ scope: blocked.blocked, rule: blocked.rule });
      this.emit(info, { type: 'auth', mechanism: auth.method, login: name, outcome: 'blocked', decision });
      throw smtpError(decision);
    }
    const cram = auth as SMTPServerAuthentication & { challenge?: string; challengeResponse?: string };
    const result = auth.method === 'CRAM-MD5'
      ? this.deps.authenticator.checkCramMd5(name, cram.challenge ?? '', cram.challengeResponse ?? '', access.defaultDomain)
      : await this.deps.authenticator.checkPassword(name, auth.password ?? '', access.defaultDomain);
    if (result.ok) {
      this.deps.throttle.recordSuccess(attempt);
      this.deps.knownAddresses.recordSuccess(result.user.name, info.address);
      info.user = { name: result.user.name, senders: result.user.senders, perHour: result.user.perHour, recipientsPerDay: result.user.recipientsPerDay };
      info.mechanism = auth.method;
      this.emit(info, { type: 'auth', mechanism: auth.method, login: name, outcome: 'success', decision: evaluateCredentials({ ok: true }) });
      return { user: result.user.name };
    }
    const delayMs = this.deps.throttle.recordFailure(attempt, lockout);
    const decision = evaluateCredentials(result);
    this.emit(info, { type: 'auth', mechanism: auth.method, login: name, outcome: 'failure', reason: result.reason, decision });
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    throw smtpError(decision);
  }

  private onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Error | null {
    const info = this.info(session);
    const declared = Number((address.args as Record<string, string> | false || {}).SIZE);
    const decision = evaluateMailFrom(this.settings.policy, this.facts(info), address.address, Number.isFinite(declared) && declared > 0 ? declared : null, parameterNames(address));
    this.emit(info, { type: 'mail', from: address.address, decision });
    // A 421 (per-connection message limit) makes smtp-server close the connection after the reply.
    if (decision.verdict !== 'allow') return smtpError(decision);
    info.state = 'mail';
    return null;
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Error | null {
    const info = this.info(session);
    const decision = evaluateRecipient(this.settings.policy, this.facts(info), address.address, session.envelope.rcptTo.length, parameterNames(address));
    this.emit(info, { type: 'rcpt', to: address.address, decision });
    return decision.verdict === 'allow' ? null : smtpError(decision);
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const info = this.info(session);
    info.state = 'data';
    const { config } = this.settings;
    const envelope = session.envelope;
    const mailFrom = envelope.mailFrom ? envelope.mailFrom.address : '';
    const recipients = envelope.rcptTo.map((r) => {
      const domain = r.address.slice(r.address.lastIndexOf('@') + 1).toLowerCase();
      return { address: r.address, domain, route: this.settings.routeOf(domain) };
    });
    const sessionBytesBefore = info.sessionBytes;
    try {
      const message = await this.deps.spool.accept(stream as Readable, {
        serverName: this.name, mailFrom, recipients, clientAddress: info.address, authUser: info.user?.name ?? null,
        prependHeaders: (id) => receivedHeader(config, info, session, id, this.deps.now()),
      }, (size) => {
        const decision = evaluateMessageSize(this.settings.policy, size, sessionBytesBefore);
        info.sessionBytes += size;
        if (decision.verdict === 'allow') return null;
        this.emit(info, { type: 'data', size, queueId: null, decision });
        return new SpoolError(decision.code, decision.enhanced, decision.text);
      });
      info.messagesAccepted += 1;
      info.state = 'connected';
      const device = info.user ? null : matchTrustedDevice(this.settings.policy, info.address);
      if ((device && device.perHour !== null) || info.user?.perHour != null || info.user?.recipientsPerDay != null) this.deps.rates.record(this.rateKey(info, device), recipients.length);
      this.emit(info, { type: 'data', size: message.size, queueId: message.id, decision: evaluateQueued(message.id) });
      return message.id;
    } catch (err) {
      info.state = 'connected';
      // smtp-server answers only once the body has been read to its end: a write that failed
      // half-way must not leave the client waiting for a reply until it times out.
      discardRest(stream as Readable);
      if (err instanceof SpoolError && err.enhanced === '4.3.1') this.deps.storageFailed();
      // A size refusal was logged by the check above; a write failure is decided (and logged) here.
      if (err instanceof SpoolError && err.code === 552) throw smtpError({ code: err.code, enhanced: err.enhanced, text: err.message });
      const decision = evaluateSpoolFailure(err instanceof SpoolError && err.enhanced === '4.3.1' ? 'no-space' : 'write-failed');
      this.emit(info, { type: 'data', size: 0, queueId: null, decision });
      throw smtpError(decision);
    }
  }

  private onClose(session: SMTPServerSession): void {
    const info = this.sessions.get(session.id);
    const socket = this.sockets.get(session.id);
    this.sockets.delete(session.id);
    if (!info) return;
    this.sessions.delete(session.id);
    info.state = 'closing';
    this.emit(info, { type: 'close', bytesIn: socket?.bytesRead ?? 0, bytesOut: socket?.bytesWritten ?? 0, durationMs: this.deps.now().getTime() - info.startedAt.getTime() });
  }
}

// Stand-ins for facts the AUTH gate only tests for presence of.
const PRESENT_TLS: TlsFacts = { protocol: 'TLS', cipher: '', bits: 0 };
const ANONYMOUS_USER: UserFacts = { name: '', senders: [] };

/** Read and drop what is left of a message body (the spool stopped reading it after an error). */
function discardRest(stream: Readable): void {
  if (stream.readableEnded || stream.destroyed) return;
  // An async iterator left a 'readable' listener behind, and resume() is a no-op while one exists.
  stream.removeAllListeners('readable');
  stream.on('data', () => undefined);
  stream.resume();
}

/** The ESMTP parameter names of a MAIL or RCPT command (SIZE, BODY, …). */
function parameterNames(address: SMTPServerAddress): string[] {
  return address.args ? Object.keys(address.args as Record<string, unknown>) : [];
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
