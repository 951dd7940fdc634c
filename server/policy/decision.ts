// The value every policy function returns: what to answer and which rule decided. The engine
// sends it unchanged and logs it unchanged, so the log can always say why.

export type Verdict = 'allow' | 'refuse' | 'defer';

export interface Decision {
  verdict: Verdict;
  /** SMTP reply code, e.g. 250, 550. */
  code: number;
  /** RFC 3463 enhanced status code, e.g. "5.7.1". */
  enhanced: string;
  /** Reply text without the codes. */
  text: string;
  /** The rule that decided, e.g. "relay:not-permitted" or "connection:list 192.0.2.0/24". */
  rule: string;
  /** Close the connection after the reply (refused connections, blocked addresses). */
  close?: boolean;
}

export function allow(rule: string, text = 'OK', code = 250, enhanced = '2.0.0'): Decision {
  return { verdict: 'allow', code, enhanced, text, rule };
}

export function refuse(code: number, enhanced: string, text: string, rule: string, close = false): Decision {
  const verdict: Verdict = code >= 500 ? 'refuse' : 'defer';
  return close ? { verdict, code, enhanced, text, rule, close } : { verdict, code, enhanced, text, rule };
}

/** The reply line as the client sees it: "550 5.7.1 Unable to relay for <a@b>". */
export function replyLine(decision: Decision): string {
  return `${decision.code} ${decision.enhanced} ${decision.text}`;
}
