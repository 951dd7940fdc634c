// The value every policy function returns: what to answer and which rule decided. The engine
// sends it unchanged and logs it unchanged, so the log can always say why.

import type { Decision, Verdict } from '../contract/decision';

export type { Decision, Verdict };

export function allow(rule: string, text = 'OK', code = 250, enhanced = '2.0.0'): Decision {
  return { verdict: 'allow', code, enhanced, text, rule };
}

export function refuse(code: number, enhanced: string, text: string, rule: string, close = false): Decision {
  const verdict: Verdict = code >= 500 ? 'refuse' : 'defer';
  return close ? { verdict, code, enhanced, text, rule, close } : { verdict, code, enhanced, text, rule };
}
