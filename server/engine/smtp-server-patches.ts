// Adaptations of smtp-server 3.21.6 (pinned exactly in package.json) that its options cannot
// express. Each applies only to Relaydesk's own servers (those created with `relaydesk` hooks in
// their options): any other SMTPServer in the process — the test sinks, the benchmark's bare
// server — runs stock (the bare server only opts out of the greeting delay: ImmediateGreetingOption).
// Each one is checked against the library's source at load time, so an upgrade that changes
// the patched code fails loudly here (and in test/unit/smtp-server-patches.test.ts) instead of
// silently bringing the old behaviour back. Only server/engine imports this.
//
// What would let each patch go (upstream changes to ask for):
//  1. init: an option for the early-talker delay (greetingDelay: 0) and a hook for maxClients refusals.
//  2. send: keep an enhanced status code the application already put at the start of its message.
//  3. parser errors: answer an over-long line with 500 (RFC 5321 §4.5.3.1.4) instead of 421.
//  4. EHLO: an authMethods callback per connection (TLS state), or a hideAUTH-before-TLS option.
//  5. AUTH: an onAuthCommand hook that runs before any credentials are read.
//  6. SASL: strict base64 (RFC 4954 §4: 501 for a response that is not base64).
//  7. commands: refuse a bare CR inside a command line (RFC 5321 §2.3.8).
//  8. replies: an onReply hook, so the library's own refusals can be logged with a reason.
//  9. connections: a session-id generator option (time-ordered ids).
// 10. TLS: an onTlsError hook with the session (a failed handshake reaches only the server's 'error' event).
// 11. HELO/EHLO: an option to accept a name of several words, and an onHelo hook (HELO was never reported).
// 12. MAIL/RCPT: an option to accept an address without angle brackets (Postfix: strict_rfc821_envelopes = no).
import fs from 'node:fs';
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import SASL from 'smtp-server/lib/sasl.js';
import type { Decision } from '../policy/decision';
import { loggableCommand, type ProtocolEvent } from '../policy/protocol-policy';
import type { TlsFailure } from '../policy/session-policy';
import { newSessionId } from '../random-ids';

/** The connection as the hooks see it. */
export interface HookConnection { sessionId: string; remoteAddress: string }

/** Option for a stock server (no hooks, no other patch) that should greet without the 100 ms delay: the benchmark's floor. */
export interface ImmediateGreetingOption { immediateGreeting: true }

/** Hooks a virtual server passes in its smtp-server options; their presence turns the patches on. */
export interface RelaydeskHooks {
  /** AUTH mechanisms to advertise in EHLO for this connection's TLS state. */
  ehloAuthMechanisms(session: { secure: boolean }): string[];
  /** Called after a successful EHLO or HELO with the name the client gave (for the live log). */
  ehloSeen(sessionId: string, hostname: string, verb: 'EHLO' | 'HELO'): void;
  /** The AUTH command before any credentials are read: a refusal (logged by the engine), or null to go on. */
  authGate(connection: HookConnection, session: { secure: boolean; authenticated: boolean }, mechanism: string): Decision | null;
  /** A protocol-level refusal these patches make: the engine decides (policy), logs, and returns it. */
  protocolEvent(connection: HookConnection, event: ProtocolEvent): Decision;
  /** A new connection's socket (its byte counts go into the log and Current sessions). */
  socketOpened(sessionId: string, socket: Socket): void;
  /** A refusal smtp-server wrote by itself (unknown command, time-out, syntax): logged, never changed. */
  stockReply(connection: HookConnection, command: string | null, code: number, enhanced: string, text: string): void;
  /** A TLS handshake (after STARTTLS, or on the implicit-TLS port) that failed, or that the client left: logged with why. */
  tlsFailed(connection: HookConnection, failure: TlsFailure): void;
}

export const PINNED_SMTP_SERVER_VERSION = '3.21.6';

/** The internals we rely on; smtp-server ships no types for them. */
interface ConnectionInternals {
  id: string;
  secure: boolean;
  remoteAddress: string;
  _socket: Socket;
  session: { id: string; user?: unknown; hostNameAppearsAs?: string | false };
  hostNameAppearsAs: string | false;
  _server: { options: { authMethods: string[]; relaydesk?: RelaydeskHooks; maxClients?: number; immediateGreeting?: boolean }; connections: Set<unknown> };
  _setListeners(callback: () => void): void;
  connectionReady(next?: () => void): void;
  send(code: number, data?: string | string[], context?: string | false): void;
  _getEnhancedStatusCode(code: number, context?: string | false): string;
  close(): void;
  name: string;
  init(): void;
  _createParser(): NodeJS.EventEmitter;
  handler_EHLO(command: Buffer, callback: () => void): void;
  handler_HELO(command: Buffer, callback: () => void): void;
  handler_AUTH(command: Buffer, callback: () => void): void;
  _onCommand(command: Buffer, callback?: () => void): void;
  /** Set while an AUTH exchange waits for its next line (a credential, not a command). */
  _nextHandler: unknown;
  /** The command line being handled (not an AUTH continuation), for the log of a refusal; null between commands. */
  relaydeskCommandLine?: Buffer | null;
  _parseAddressCommand(name: string, command: Buffer | string): unknown;
  _upgrading?: boolean;
  upgrade(callback: () => void, secureCallback?: () => void): void;
  _onError(err: Error & { code?: string; meta?: { message?: string } }): void;
  _onClose(): void;
  _tlsFailureReported?: boolean;
}

const proto = SMTPConnection.prototype as unknown as ConnectionInternals;

/** The server's side of a new connection: it builds the connection with these options (id among them). */
interface SocketOptions { id: string; ignore?: boolean }
interface ServerInternals {
  options: { relaydesk?: RelaydeskHooks; ignoredHosts?: string[] };
  _upgrade(socket: Socket, callback: (err: (Error & { code?: string; meta?: { message?: string } }) | null, tlsSocket?: Socket) => void): void;
  _expectsProxyHeader(socket: Socket): boolean;
  _handleProxy(socket: Socket, callback: (err: Error | null, socketOptions?: SocketOptions) => void): void;
}
const serverProto = SMTPServer.prototype as unknown as ServerInternals;
const SERVER_EXPECTED_SOURCE: Array<[keyof ServerInternals, string]> = [
  ['_handleProxy', 'socketOptions.ignore = this.options.ignoredHosts && this.options.ignoredHosts.includes(socket.remoteAddress);'],
  ['_handleProxy', 'if (!this._expectsProxyHeader(socket)) {'],
  ['_upgrade', '(rawErr, tlsSocket, socket.remoteAddress)'],
];

const EXPECTED_SOURCE: Array<[keyof ConnectionInternals, string]> = [
  ['init', 'setTimeout(() => this.connectionReady(), 100)'],
  ['_setListeners', 'this._socket.pipe(this._parser)'],
  ['send', 'this._getEnhancedStatusCode(code, context)'],
  ['_createParser', "this.send(421, 'Error: ' + err.message)"],
  ['handler_EHLO', 'this._server.options.authMethods.length'],
  ['handler_EHLO', 'if (parts.length !== 2) {'],
  ['handler_HELO', 'if (parts.length !== 2) {'],
  ['handler_HELO', 'this.hostNameAppearsAs = hostname.toLowerCase()'],
  ['_parseAddressCommand', 'if (!/^<[^<>]*>$/.test(address)) {'],
  ['handler_AUTH', 'Must issue a STARTTLS command first'],
  ['_onCommand', 'this._upgrading'],
  ['_onCommand', 'handler = this._nextHandler;'],
  ['upgrade', 'this._upgrading = true'],
  ['upgrade', "tlsSocket.once('_tlsError', (err) => onError(err))"],
  ['upgrade', 'this._upgrading = false'],
  ['_onError', "this.emit('error', err)"],
  ['_onClose', 'this._server.onClose(this.session'],
];

type SaslStep = (this: ConnectionInternals, ...args: unknown[]) => void;
const saslSteps = SASL as unknown as Record<string, SaslStep>;
/** SASL steps that decode a client-supplied base64 token; the token is the argument before the callback. */
const BASE64_STEPS = ['PLAIN_token', 'LOGIN_username', 'LOGIN_password', 'CRAM-MD5_token'];
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const ORIGINAL_INIT = proto.init.toString();

/** Throws when the installed smtp-server is not the code these patches were written for. */
export function assertPatchable(): void {
  const version = (JSON.parse(fs.readFileSync(require.resolve('smtp-server/package.json'), 'utf8')) as { version: string }).version;
  if (version !== PINNED_SMTP_SERVER_VERSION) {
    throw new Error(`smtp-server ${version} is installed; server/engine/smtp-server-patches.ts was written for ${PINNED_SMTP_SERVER_VERSION}. Review the patches before upgrading.`);
  }
  for (const [method, needle] of EXPECTED_SOURCE) {
    const source = method === 'init' ? ORIGINAL_INIT : String(proto[method]);
    if (!source.includes(needle)) throw new Error(`smtp-server's ${String(method)} changed; review server/engine/smtp-server-patches.ts`);
  }
  for (const [method, needle] of SERVER_EXPECTED_SOURCE) {
    if (!String(serverProto[method]).includes(needle)) throw new Error(`smtp-server's SMTPServer.${String(method)} changed; review server/engine/smtp-server-patches.ts`);
  }
  for (const step of BASE64_STEPS) {
    if (typeof saslSteps[step] !== 'function') throw new Error(`smtp-server's SASL.${step} is gone; review server/engine/smtp-server-patches.ts`);
  }
}

/** True when the stock init() still delays the greeting (it did in 3.21.6; our patch removes it). */
export function stockInitDelaysGreeting(): boolean {
  return /setTimeout\(\(\) => this\.connectionReady\(\), 100\)/.test(ORIGINAL_INIT);
}

const ENHANCED_PREFIX = /^([245]\.\d{1,3}\.\d{1,3}) (.*)$/s;
let applied = false;

function hooksOf(connection: ConnectionInternals): RelaydeskHooks | undefined {
  return connection._server.options.relaydesk;
}

function who(connection: ConnectionInternals): HookConnection {
  return { sessionId: connection.session?.id ?? connection.id, remoteAddress: connection.remoteAddress };
}

/** Node's TLS error code and OpenSSL's reason ("unsupported protocol"); smtp-server may have moved the original message to meta. */
function tlsFailureOf(err: Error & { code?: string; meta?: { message?: string } }): TlsFailure {
  const openssl = err.meta?.message ?? err.message;
  return { code: err.code ?? null, reason: /SSL routines:[^:]*:([^:]+)/.exec(openssl)?.[1] ?? (openssl || null) };
}

/** Send a decision as it is: "<code> <enhanced> <text>". */
function sendDecision(connection: ConnectionInternals, decision: Decision): void {
  connection.send(decision.code, `${decision.enhanced} ${decision.text}`);
}

export function applySmtpServerPatches(): void {
  if (applied) return;
  assertPatchable();
  applied = true;

  // 1. No fixed greeting delay. Stock init() waits 100 ms before the 220 "to detect early
  //    talkers", which caps a one-message-per-connection client at 10 messages/s. Early
  //    talkers are still refused: input before the greeting is answered 421 (this._ready).
  const originalInit = proto.init;
  proto.init = function init(this: ConnectionInternals) {
    const hooks = hooksOf(this);
    if (!hooks) {
      // The benchmark's bare server (immediateGreeting) measures the library without the delay, as the engine runs it.
      if (this._server.options.immediateGreeting) return this._setListeners(() => this.connectionReady());
      return originalInit.call(this);
    }
    hooks.socketOpened(this.id, this._socket);
    this._setListeners(() => {
      const { maxClients } = this._server.options;
      if (maxClients && this._server.connections.size > maxClients) {
        sendDecision(this, hooks.protocolEvent(who(this), 'too-many-clients')); // 421: smtp-server closes after it
        return;
      }
      this.connectionReady();
    });
  };

  // 2. A reply text that starts with an enhanced status code ("5.7.1 Unable to relay") keeps
  //    it, instead of the library prepending its default for the reply code ("550 5.1.1 5.7.1").
  //    8. Any other refusal is smtp-server's own: reported to the engine, which logs it.
  const originalSend = proto.send;
  proto.send = function send(this: ConnectionInternals, code, data, context) {
    const hooks = hooksOf(this);
    if (!hooks) return originalSend.call(this, code, data, context);
    if (typeof data === 'string') {
      const match = ENHANCED_PREFIX.exec(data);
      if (match) return originalSend.call(this, code, `${match[1]} ${match[2]}`, false);
    }
    if (code >= 400) {
      const command = this.relaydeskCommandLine ? loggableCommand(this.relaydeskCommandLine.toString('latin1')) : null;
      hooks.stockReply(who(this), command, code, this._getEnhancedStatusCode(code, context), Array.isArray(data) ? data.join(' ') : data ?? '');
    }
    return originalSend.call(this, code, data, context);
  };

  // 3. RFC 5321 §4.5.3.1.4: an over-long command line is "500 Line too long", not a 421.
  //    The parser cannot continue after it, so the connection is closed after the reply.
  const originalCreateParser = proto._createParser;
  proto._createParser = function createParser(this: ConnectionInternals) {
    const parser = originalCreateParser.call(this);
    const hooks = hooksOf(this);
    if (!hooks) return parser;
    parser.removeAllListeners('error');
    parser.on('error', (err: Error) => {
      if (/too long/i.test(err.message)) {
        sendDecision(this, hooks.protocolEvent(who(this), 'line-too-long'));
        this.close();
      } else {
        this.send(421, `Error: ${err.message}`);
      }
    });
    return parser;
  };

  // 4. AUTH advertised per connection: not before STARTTLS when basic authentication requires TLS.
  //    authMethods is read synchronously by the stock handler, so it is swapped for that call only.
  // 11. A greeting whose name has several words ("EHLO Canon MF4800", as some devices send) is
  //    accepted as Postfix, IIS and Exchange accept it, the words joined by single spaces (stock:
  //    501, and the device cannot send at all). HELO is reported to the engine like EHLO, once
  //    it succeeded (stock reported neither; a failed greeting keeps the name the session had).
  const greet = (connection: ConnectionInternals, hooks: RelaydeskHooks, verb: 'EHLO' | 'HELO', command: Buffer, run: (command: Buffer) => void) => {
    const words = command.toString().trim().split(/\s+/);
    const name = words.slice(1).join(' ');
    // The stock handler checks the name's length and characters: give it the same name with the spaces made one word.
    const asOneWord = words.length > 2 ? Buffer.from(`${words[0] ?? verb} ${name.replace(/ /g, '_')}`) : command;
    const before = connection.hostNameAppearsAs;
    connection.hostNameAppearsAs = false;
    run(asOneWord);
    if (!connection.hostNameAppearsAs) {
      connection.hostNameAppearsAs = before; // refused: nothing changes
      return;
    }
    if (words.length > 2) connection.hostNameAppearsAs = connection.session.hostNameAppearsAs = name.toLowerCase(); // the stock handler copied it into the session
    hooks.ehloSeen(connection.session.id, connection.hostNameAppearsAs, verb);
  };
  const originalEhlo = proto.handler_EHLO;
  proto.handler_EHLO = function handlerEhlo(this: ConnectionInternals, command, callback) {
    const hooks = hooksOf(this);
    if (!hooks) return originalEhlo.call(this, command, callback);
    const options = this._server.options;
    const all = options.authMethods;
    options.authMethods = hooks.ehloAuthMechanisms({ secure: this.secure });
    try {
      greet(this, hooks, 'EHLO', command, (greeting) => originalEhlo.call(this, greeting, callback));
    } finally {
      options.authMethods = all;
    }
  };
  const originalHelo = proto.handler_HELO;
  proto.handler_HELO = function handlerHelo(this: ConnectionInternals, command, callback) {
    const hooks = hooksOf(this);
    if (!hooks) return originalHelo.call(this, command, callback);
    greet(this, hooks, 'HELO', command, (greeting) => originalHelo.call(this, greeting, callback));
  };

  // 5. The AUTH command is judged by policy before the stock handler reads any credentials
  //    (538 5.7.11 before TLS, 530 5.7.0 under "require secure channel", 504 when not offered).
  const originalAuth = proto.handler_AUTH;
  proto.handler_AUTH = function handlerAuth(this: ConnectionInternals, command, callback) {
    const hooks = hooksOf(this);
    if (hooks) {
      const mechanism = command.toString().trim().split(/\s+/)[1] ?? '';
      const refusal = hooks.authGate(who(this), { secure: this.secure, authenticated: Boolean(this.session.user) }, mechanism);
      if (refusal !== null) {
        sendDecision(this, refusal);
        return callback();
      }
    }
    return originalAuth.call(this, command, callback);
  };

  // 6. RFC 4954 §4: a response that is not valid base64 is refused with 501 5.5.2 (the stock
  //    steps decode it leniently and answer 501 5.5.4 "invalid userdata" or try the garbage).
  for (const step of BASE64_STEPS) {
    const original = saslSteps[step] as SaslStep;
    saslSteps[step] = function checkedStep(this: ConnectionInternals, ...args: unknown[]) {
      const hooks = hooksOf(this);
      const token = String(args[args.length - 2] ?? '').trim();
      const callback = args[args.length - 1] as () => void;
      if (hooks && token !== '*' && !BASE64_RE.test(token)) {
        sendDecision(this, hooks.protocolEvent(who(this), 'invalid-base64'));
        return callback();
      }
      return original.apply(this, args);
    };
  }

  // 7. RFC 5321 §2.3.8: a bare CR inside a command line is refused with 501 (stock smtp-server
  //    splits the line on whitespace and accepts "MAIL FROM:<a@b>\rX-INJECT=1"). A bare LF ends a
  //    command line, as it does in Postfix (smtpd_forbid_bare_newline = normalize): old devices send it.
  const originalOnCommand = proto._onCommand;
  proto._onCommand = function onCommand(this: ConnectionInternals, command, callback) {
    const hooks = hooksOf(this);
    // A TLS record (0x16 0x03: a ClientHello) where a command belongs: the client speaks implicit TLS.
    if (hooks && !this.secure && !this._upgrading && command?.[0] === 0x16 && command[1] === 0x03) {
      sendDecision(this, hooks.protocolEvent(who(this), 'tls-without-starttls'));
      this.close();
      return (callback ?? (() => undefined))();
    }
    if (hooks && !this._upgrading && command?.includes(0x0d)) {
      sendDecision(this, hooks.protocolEvent(who(this), 'bare-cr'));
      return (callback ?? (() => undefined))();
    }
    if (!hooks) return originalOnCommand.call(this, command, callback);
    // Which command a refusal of the library answered (8.): kept until the command is handled.
    // The line is only turned into text if it is refused; an AUTH continuation is never kept.
    this.relaydeskCommandLine = this._nextHandler ? null : command;
    return originalOnCommand.call(this, command, () => {
      this.relaydeskCommandLine = null;
      callback?.();
    });
  };

  // 9. Session ids in time order (stock: random). The log is indexed by session: a random id
  //    lands each new session on a random page of that index, a time-ordered one at its end.
  //    Without a PROXY header to read, as stock but without its random id (one call into
  //    OpenSSL per connection).
  const originalHandleProxy = serverProto._handleProxy;
  serverProto._handleProxy = function handleProxy(this: ServerInternals, socket, callback) {
    if (!this.options.relaydesk) return originalHandleProxy.call(this, socket, callback);
    if (this._expectsProxyHeader(socket)) {
      return originalHandleProxy.call(this, socket, (err, socketOptions) => callback(err, socketOptions && { ...socketOptions, id: newSessionId() }));
    }
    const ignore = Boolean(this.options.ignoredHosts?.includes(socket.remoteAddress ?? ''));
    setImmediate(() => callback(null, { id: newSessionId(), ignore }));
  };

  // 10. A TLS handshake that fails (a client that speaks only TLS 1.0, no cipher in common, a
  //     client that rejects the certificate) reaches smtp-server's 'error' event only, without
  //     its session; one the client walks away from, nothing at all. Report either to the engine
  //     once, before the close, so the log says why the client left.
  //     On the implicit-TLS port the server shakes hands before a connection exists: the failure
  //     is logged under an id of its own (there is no session to join).
  const reportTlsFailure = (connection: ConnectionInternals, failure: TlsFailure) => {
    const hooks = hooksOf(connection);
    if (!hooks || !connection._upgrading || connection._tlsFailureReported) return;
    connection._tlsFailureReported = true;
    hooks.tlsFailed(who(connection), failure);
  };
  const originalOnError = proto._onError;
  proto._onError = function onError(this: ConnectionInternals, err) {
    reportTlsFailure(this, tlsFailureOf(err));
    return originalOnError.call(this, err);
  };
  const originalServerUpgrade = serverProto._upgrade;
  serverProto._upgrade = function upgrade(this: ServerInternals, socket, callback) {
    const hooks = this.options.relaydesk;
    if (!hooks) return originalServerUpgrade.call(this, socket, callback);
    return originalServerUpgrade.call(this, socket, (err, tlsSocket) => {
      // A client that sent not one byte before the handshake timed out is waiting for a greeting: it speaks plain SMTP here.
      if (err) hooks.tlsFailed({ sessionId: newSessionId(), remoteAddress: socket.remoteAddress ?? '' }, { ...tlsFailureOf(err), clientSentNothing: socket.bytesRead === 0 });
      callback(err, tlsSocket);
    });
  };
  const originalOnClose = proto._onClose;
  proto._onClose = function onClose(this: ConnectionInternals) {
    reportTlsFailure(this, { code: null, reason: null });
    return originalOnClose.call(this);
  };

  // 12. "MAIL FROM:scanner@example.com", without the angle brackets RFC 5321 asks for, as some
  //     devices and scripts send it: accepted as Postfix (strict_rfc821_envelopes = no) and IIS
  //     accept it, the address then checked like any other (stock: 501, the device cannot send).
  const originalParseAddress = proto._parseAddressCommand;
  proto._parseAddressCommand = function parseAddressCommand(this: ConnectionInternals, name, command) {
    if (!hooksOf(this)) return originalParseAddress.call(this, name, command);
    const bare = /^([A-Za-z]+ ?[A-Za-z]+:)\s*([^\s<>]+@[^\s<>]+)(\s.*)?$/s.exec(command.toString());
    return originalParseAddress.call(this, name, bare ? `${bare[1]}<${bare[2]}>${bare[3] ?? ''}` : command);
  };
}

export { SMTPServer };
