// The value every policy function returns and every reply is made from: what to answer and which
// rule decided. Declared here, in the contract, because events, the AdminApi and the console carry
// it unchanged; server/policy builds decisions (policy/decision.ts) and imports this type, never
// the other way round.

export type Verdict = 'allow' | 'refuse' | 'defer';

export interface Decision {
  verdict: Verdict;
  /** SMTP reply code, e.g. 250, 550. */
  code: number;
  /** RFC 3463 enhanced status code, e.g. "5.7.1" ("" for the greeting, which has none). */
  enhanced: string;
  /** Reply text without the codes. */
  text: string;
  /** The rule that decided, e.g. "relay:not-permitted" or "connection:listed 192.0.2.0/24". */
  rule: string;
  /** Close the connection after the reply (refused connections, blocked addresses). */
  close?: boolean;
}
