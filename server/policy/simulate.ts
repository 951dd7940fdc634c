// The policy simulator of the "Test settings" page: a whole session, step by step, decided by the
// very functions the engine calls. What it says is what the engine answers.
import type { SimulationResult, SimulationStep } from '../contract/admin-api';
import { allow } from './decision';
import {
  type CompiledPolicy, evaluateAuthCommand, evaluateConnection, evaluateEhloAuth, evaluateMailFrom, evaluateRecipient, matchTrustedDevice,
  type ReverseName, type SessionFacts, type TlsFacts, type UserFacts,
} from './session-policy';

export interface SimulatedSession {
  address: string;
  reverseName: ReverseName;
  /** The user the client signs in as (credentials are taken as correct), or null. */
  user: UserFacts | null;
  tls: boolean;
  mailFrom: string;
  rcptTo: readonly string[];
}

const SIMULATED_TLS: TlsFacts = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', bits: 256 };

export function simulateSession(policy: CompiledPolicy, input: SimulatedSession): SimulationResult {
  const steps: SimulationStep[] = [];
  const tls = input.tls ? SIMULATED_TLS : null;
  const connect = evaluateConnection(policy, input);
  const trusted = matchTrustedDevice(policy, input.address);
  steps.push({ step: 'connect', command: `(connect from ${input.address}${trusted ? `, trusted device "${trusted.name}"` : ''})`, decision: connect });
  const advertisedAuth = evaluateEhloAuth(policy, input.tls);
  const device = input.user ? null : trusted?.name ?? null;
  if (connect.verdict !== 'allow') return { steps, advertisedAuth, accepted: false, device };
  steps.push({ step: 'ehlo', command: 'EHLO client', decision: allow('ehlo:ok', advertisedAuth.length ? `AUTH ${advertisedAuth.join(' ')}` : 'no AUTH offered', 250, '') });

  let user: UserFacts | null = null;
  if (input.user) {
    const mechanism = advertisedAuth[0] ?? 'PLAIN';
    const auth = evaluateAuthCommand(policy, { tls, user: null }, mechanism);
    const decision = auth.verdict === 'allow'
      ? allow('auth:success (credentials assumed correct)', 'Authentication successful', 235, '2.7.0')
      : auth;
    steps.push({ step: 'auth', command: `AUTH ${mechanism} (as ${input.user.name})`, decision });
    if (auth.verdict === 'allow') user = input.user;
  }

  const facts: SessionFacts = { address: input.address, reverseName: input.reverseName, tls, user, messagesAccepted: 0, device: user ? null : trusted };
  const mail = evaluateMailFrom(policy, facts, input.mailFrom, null);
  steps.push({ step: 'mail', command: `MAIL FROM:<${input.mailFrom}>`, decision: mail });
  if (mail.verdict !== 'allow') return { steps, advertisedAuth, accepted: false, device };

  let accepted = 0;
  for (const rcpt of input.rcptTo) {
    const decision = evaluateRecipient(policy, facts, rcpt, accepted);
    if (decision.verdict === 'allow') accepted++;
    steps.push({ step: 'rcpt', command: `RCPT TO:<${rcpt}>`, decision });
  }
  return { steps, advertisedAuth, accepted: accepted === input.rcptTo.length, device };
}
