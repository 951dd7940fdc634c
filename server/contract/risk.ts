// Settings that need a second look before they are applied: an open relay, a server nobody can
// connect to, a server nobody can submit to. One definition for the property sheets, the CLI and
// the IIS import, so each warns the same way; and the one-line access summary `serve` prints.
// Pure: settings in, a warning or a line out.
import type { VirtualServerConfig } from './settings';

type AccessInput = Pick<VirtualServerConfig, 'relayRules'> & {
  access: Pick<VirtualServerConfig['access'], 'anonymous' | 'basicAuth' | 'basicRequiresTls' | 'requireSecureChannel' | 'relayMode' | 'relayForAuthenticated' | 'trustedDevices'>;
};

/**
 * Who may submit and relay through a server, in one line, from its saved settings (what `serve`
 * prints at start, so the line is true whatever the admin changed, not the defaults' promise).
 */
export function accessSummary(server: AccessInput): string {
  const a = server.access;
  const devices = a.trustedDevices.length;
  const signIn = a.anonymous ? 'clients may submit without signing in' : devices > 0 ? `sign-in required (not for ${devices} trusted device(s))` : 'sign-in required';
  const tls = a.requireSecureChannel ? 'TLS required' : a.basicAuth && a.basicRequiresTls ? 'TLS required to sign in only' : 'TLS not required';
  const listed = server.relayRules.length;
  const relay = a.relayMode === 'all-except'
    ? `relay for every computer${listed > 0 ? ` but ${listed} listed` : ''}${a.anonymous ? ' (an open relay)' : ''}`
    : listed === 0
      ? (a.relayForAuthenticated ? 'relay only for signed-in users' : 'relay for nobody')
      : `relay for ${listed} listed computer(s)${a.relayForAuthenticated ? ' and signed-in users' : ''}`;
  const secureDefaults = !a.anonymous && devices === 0 && a.requireSecureChannel && a.relayMode === 'only-list' && listed === 0 && a.relayForAuthenticated;
  return `${signIn}, ${tls}, ${relay}${secureDefaults ? ' (the secure defaults)' : ''}`;
}

export interface Risk { title: string; why: string }

type RiskInput = Pick<VirtualServerConfig, 'connectionRules'> & { access: Pick<VirtualServerConfig['access'], 'anonymous' | 'relayMode' | 'connectionMode' | 'basicAuth' | 'cramMd5' | 'trustedDevices'> };

export function riskOf(draft: RiskInput): Risk | null {
  const a = draft.access;
  if (a.anonymous && a.relayMode === 'all-except') {
    return { title: 'This makes an open relay', why: 'Anonymous access is on and relaying is allowed for every computer not on the list. Anyone who can reach this server could send mail anywhere through it; spammers scan for exactly this, and your address will be blocklisted within hours.' };
  }
  if (a.connectionMode === 'only-list' && draft.connectionRules.length === 0) {
    return { title: 'No computer could connect', why: 'Connection control is set to "Only the list below" and the list is empty: every client, including this machine, would be refused with 554.' };
  }
  if (!a.anonymous && !a.basicAuth && !a.cramMd5 && a.trustedDevices.length === 0) {
    return { title: 'Nobody could submit mail', why: 'Anonymous access is off, no authentication method is on and no trusted device is listed, so every MAIL command would be refused.' };
  }
  return null;
}

type ModeInput = Pick<VirtualServerConfig, 'connectionRules'> & { access: Pick<VirtualServerConfig['access'], 'connectionMode'> };

const modeWords = (mode: VirtualServerConfig['access']['connectionMode']) => (mode === 'only-list' ? 'Only the list below' : 'All except the list below');

/**
 * Switching Connection control between "only the list" and "all except the list" turns the
 * meaning of every entry around; `here` is the simulator's connect decision for 127.0.0.1.
 */
export function connectionModeSwitchRisk(saved: ModeInput, draft: ModeInput, here: { code: number; enhanced: string; text: string; rule: string } | null): Risk | null {
  if (saved.access.connectionMode === draft.access.connectionMode || draft.connectionRules.length === 0) return null;
  const entries = draft.connectionRules.length;
  const meaning = draft.access.connectionMode === 'all-except'
    ? `the ${entries} listed computer(s) will be REFUSED and every other computer admitted`
    : `ONLY the ${entries} listed computer(s) will be admitted and every other refused`;
  const verdict = here ? ` For this machine (127.0.0.1) the simulator says: ${here.code} ${here.enhanced} ${here.text} [${here.rule}].` : '';
  return { title: 'The list will mean the opposite', why: `Connection control changes from "${modeWords(saved.access.connectionMode)}" to "${modeWords(draft.access.connectionMode)}": ${meaning}.${verdict}` };
}
