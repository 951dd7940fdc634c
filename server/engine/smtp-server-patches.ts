// Adaptations of smtp-server 3.21.6 (pinned exactly in package.json) that its options cannot
// express. Each one is checked against the library's source at load time, so an upgrade that
// changes the patched code fails loudly here (and in test/unit/smtp-server-patches.test.ts)
// instead of silently bringing the old behaviour back. Only server/engine imports this.
import fs from 'node:fs';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import SASL from 'smtp-server/lib/sasl.js';

/** Hooks a virtual server passes in its smtp-server options. */
export interface RelaydeskHooks {
  /** AUTH mechanisms to advertise in EHLO for this connection's TLS state. */
  ehloAuthMechanisms(session: { secure: boolean }): string[];
  /** Called after a successful EHLO/HELO with the name the client gave (for the live log). */
  ehloSeen(sessionId: string, hostname: string): void;
  /** A reply refusing the AUTH command before any credentials are read, or null to go on. */
  authGate(session: { secure: boolean; authenticated: boolean }, mechanism: string): string | null;
}

export const PINNED_SMTP_SERVER_VERSION = '3.21.6';

/** The internals we rely on; smtp-server ships no types for them. */
interface ConnectionInternals {
  secure: boolean;
  session: { id: string; user?: unknown };
  hostNameAppearsAs: string | false;
  _server: { options: { authMethods: string[]; relaydesk?: RelaydeskHooks; maxClients?: number }; connections: Set<unknown> };
  _setListeners(callback: () => void): void;
  connectionReady(next?: () => void): void;
  send(code: number, data?: string | string[], context?: string | false): void;
  close(): void;
  name: string;
  _createParser(): NodeJS.EventEmitter;
  handler_EHLO(command: Buffer, callback: () => void): void;
  handler_AUTH(command: Buffer, callback: () => void): void;
  _onCommand(command: Buffer, callback?: () => void): void;
  _upgrading?: boolean;
}

const proto = SMTPConnection.prototype as unknown as ConnectionInternals;

const EXPECTED_SOURCE: Array<[keyof ConnectionInternals, string]> = [
  ['_setListeners', 'this._socket.pipe(this._parser)'],
  ['send', '_getEnhancedStatusCode(code, context)'],
  ['_createParser', "this.send(421, 'Error: ' + err.message)"],
  ['handler_EHLO', 'this._server.options.authMethods.length'],
  ['handler_AUTH', 'Must issue a STARTTLS command first'],
  ['_onCommand', 'this._upgrading'],
];

type SaslStep = (this: ConnectionInternals, ...args: unknown[]) => void;
const saslSteps = SASL as unknown as Record<string, SaslStep>;
/** SASL steps that decode a client-supplied base64 token; the token is the argument before the callback. */
const BASE64_STEPS = ['PLAIN_token', 'LOGIN_username', 'LOGIN_password', 'CRAM-MD5_token'];
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const ORIGINAL_INIT = (SMTPConnection.prototype as unknown as { init: () => void }).init.toString();

/** Throws when the installed smtp-server is not the code these patches were written for. */
export function assertPatchable(): void {
  const version = (JSON.parse(fs.readFileSync(require.resolve('smtp-server/package.json'), 'utf8')) as { version: string }).version;
  if (version !== PINNED_SMTP_SERVER_VERSION) {
    throw new Error(`smtp-server ${version} is installed; server/engine/smtp-server-patches.ts was written for ${PINNED_SMTP_SERVER_VERSION}. Review the patches before upgrading.`);
  }
  for (const [method, needle] of EXPECTED_SOURCE) {
    const source = String(proto[method]);
    if (!source.includes(needle)) throw new Error(`smtp-server's ${String(method)} changed; review server/engine/smtp-server-patches.ts`);
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

export function applySmtpServerPatches(): void {
  if (applied) return;
  assertPatchable();
  applied = true;

  // 1. No fixed greeting delay. Stock init() waits 100 ms before the 220 "to detect early
  //    talkers", which caps a one-message-per-connection client at 10 messages/s. Early
  //    talkers are still refused: input before the greeting is answered 421 (this._ready).
  (SMTPConnection.prototype as unknown as { init: () => void }).init = function init(this: ConnectionInternals) {
    this._setListeners(() => {
      const { maxClients } = this._server.options;
      if (maxClients && this._server.connections.size > maxClients) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      this.connectionReady();
    });
  };

  // 2. A reply text that starts with an enhanced status code ("5.7.1 Unable to relay") keeps
  //    it, instead of the library prepending its default for the reply code ("550 5.1.1 5.7.1").
  const originalSend = proto.send;
  proto.send = function send(this: ConnectionInternals, code, data, context) {
    if (typeof data === 'string') {
      const match = ENHANCED_PREFIX.exec(data);
      if (match) return originalSend.call(this, code, `${match[1]} ${match[2]}`, false);
    }
    return originalSend.call(this, code, data, context);
  };

  // 3. RFC 5321 §4.5.3.1.4: an over-long command line is "500 Line too long", not a 421.
  //    The parser cannot continue after it, so the connection is closed after the reply.
  const originalCreateParser = proto._createParser;
  proto._createParser = function createParser(this: ConnectionInternals) {
    const parser = originalCreateParser.call(this);
    parser.removeAllListeners('error');
    parser.on('error', (err: Error) => {
      if (/too long/i.test(err.message)) {
        this.send(500, '5.5.2 Line too long');
        this.close();
      } else {
        this.send(421, `Error: ${err.message}`);
      }
    });
    return parser;
  };

  // 4. AUTH advertised per connection: not before STARTTLS when basic authentication requires TLS.
  //    authMethods is read synchronously by the stock handler, so it is swapped for that call only.
  const originalEhlo = proto.handler_EHLO;
  proto.handler_EHLO = function handlerEhlo(this: ConnectionInternals, command, callback) {
    const hooks = this._server.options.relaydesk;
    if (!hooks) return originalEhlo.call(this, command, callback);
    const options = this._server.options;
    const all = options.authMethods;
    options.authMethods = hooks.ehloAuthMechanisms({ secure: this.secure });
    try {
      originalEhlo.call(this, command, callback);
    } finally {
      options.authMethods = all;
    }
    if (this.hostNameAppearsAs) hooks.ehloSeen(this.session.id, this.hostNameAppearsAs);
  };

  // 5. The AUTH command is judged by policy before the stock handler reads any credentials
  //    (538 5.7.11 before TLS, 530 5.7.0 under "require secure channel", 504 when not offered).
  const originalAuth = proto.handler_AUTH;
  proto.handler_AUTH = function handlerAuth(this: ConnectionInternals, command, callback) {
    const hooks = this._server.options.relaydesk;
    if (hooks) {
      const mechanism = command.toString().trim().split(/\s+/)[1] ?? '';
      const refusal = hooks.authGate({ secure: this.secure, authenticated: Boolean(this.session.user) }, mechanism);
      if (refusal !== null) {
        const [code, ...rest] = refusal.split(' ');
        this.send(Number(code), rest.join(' '));
        return callback();
      }
    }
    return originalAuth.call(this, command, callback);
  };

  patchBareCarriageReturn();

  // 6. RFC 4954 §4: a response that is not valid base64 is refused with 501 5.5.2 (the stock
  //    steps decode it leniently and answer 501 5.5.4 "invalid userdata" or try the garbage).
  for (const step of BASE64_STEPS) {
    const original = saslSteps[step] as SaslStep;
    saslSteps[step] = function checkedStep(this: ConnectionInternals, ...args: unknown[]) {
      const token = String(args[args.length - 2] ?? '').trim();
      const callback = args[args.length - 1] as () => void;
      if (token !== '*' && !BASE64_RE.test(token)) {
        this.send(501, '5.5.2 Invalid base64 data');
        return callback();
      }
      return original.apply(this, args);
    };
  }
}

/**
 * 7. RFC 5321 §2.3.8: a bare CR inside a command line is refused with 501 (stock smtp-server
 *    splits the line on whitespace and accepts "MAIL FROM:<a@b>\rX-INJECT=1"). A bare LF ends a
 *    command line, as it does in Postfix (smtpd_forbid_bare_newline = normalize): old devices
 *    send it. Only Relaydesk's own servers (those with hooks) are affected.
 */
export function patchBareCarriageReturn(): void {
  const originalOnCommand = proto._onCommand;
  proto._onCommand = function onCommand(this: ConnectionInternals, command, callback) {
    if (this._server.options.relaydesk && !this._upgrading && command?.includes(0x0d)) {
      this.send(501, '5.5.2 Syntax error: bare CR in command line');
      return (callback ?? (() => undefined))();
    }
    return originalOnCommand.call(this, command, callback);
  };
}

export { SMTPServer };
