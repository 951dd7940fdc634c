// Session events: what the engine reports for the live log, the console and the CLI. Decisions
// are carried unchanged. Credentials never appear in an event (AUTH carries only user and result).
import type { Decision } from './decision';

interface EventBase {
  /** ISO time. */
  at: string;
  server: string;
  session: string;
  address: string;
  /** The user the session signed in as, once it has. */
  user: string | null;
  /** The trusted device the client is, by name, when it did not sign in. */
  device?: string;
  /** Bytes the client had sent and been sent on this connection when the event happened. */
  bytesIn?: number;
  bytesOut?: number;
}

export type SessionEvent = EventBase & (
  | { type: 'connect'; port: number; decision: Decision }
  /** EHLO, or HELO (helo: true) from an old client. */
  | { type: 'ehlo'; hostname: string; helo?: boolean }
  /** A handshake that failed or was left has protocol "" and a decision with code 0 (no reply was sent) saying why. */
  | { type: 'starttls'; protocol: string; cipher: string; bits: number; decision: Decision }
  | { type: 'auth'; mechanism: string; /** The name the client gave (whether or not it exists). */ login: string; outcome: 'success' | 'failure' | 'blocked' | 'refused'; reason?: string; decision?: Decision }
  | { type: 'mail'; from: string; decision: Decision }
  | { type: 'rcpt'; to: string; decision: Decision }
  | { type: 'data'; size: number; queueId: string | null; decision: Decision }
  /** A reply that is not about a step above: a protocol refusal (unknown command, syntax, time-out, line too long). */
  | { type: 'reply'; command: string | null; decision: Decision }
  | { type: 'close'; bytesIn: number; bytesOut: number; durationMs: number }
);

export type ServerEvent =
  | { type: 'listening'; at: string; server: string; address: string; port: number; mode: 'starttls' | 'implicit-tls' }
  /** retrySeconds: the engine tries again this often (a cause that can pass); null: the admin must fix it. */
  | { type: 'bind-failed'; at: string; server: string; address: string; port: number; message: string; retrySeconds: number | null }
  | { type: 'state'; at: string; server: string; state: 'started' | 'stopped' | 'paused' }
  | { type: 'delivered'; at: string; queueId: string; recipients: string[]; destination: string }
  | { type: 'delivery'; at: string; queueId: string; recipients: string[]; destination: string; outcome: 'attempt' | 'deferred' | 'delayed' | 'failed' | 'returned' | 'badmail'; reply: string }
  | { type: 'warning'; at: string; message: string }
  /** OAuth2 sign-in to a smart host: done, lost (refresh refused: the admin must sign in again), or removed. */
  | { type: 'smarthost-sign-in'; at: string; server: string; outcome: 'signed-in' | 'sign-in-needed' | 'signed-out'; account: string; message: string };

export type RelaydeskEvent = SessionEvent | ServerEvent;
