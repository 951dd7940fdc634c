// OAuth2 for the smart host: provider, flow, and the sign-in panel with the engine's observed state.
import { Button, Dropdown, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, Option, Spinner, Text } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import type { SmartHostSignInStatus } from '../../../server/contract/admin-api';
import { type OAuth2Settings, OAUTH_PROVIDERS } from '../../../server/contract/settings';
import { api, errorField, errorMessage } from '../../api/client';
import { useAction, useEvents } from '../../api/hooks';
import { useServers } from '../../api/servers';
import { type FieldError, usePropertyStyles as useStyles } from './shared';

export const FLOW_LABELS = { browser: 'Browser on this computer (authorization code + PKCE)', device: 'Code entered on any device (device code)', app: 'App-only (client credentials, Microsoft 365)' } as const;

export function newOAuth2(smartHostName: string): OAuth2Settings {
  const provider = smartHostName.endsWith('gmail.com') ? 'google' : 'microsoft365';
  return { provider, tenant: 'organizations', clientId: '', clientSecret: null, certificate: null, authority: null, flow: provider === 'google' ? 'browser' : 'device', authorizationEndpoint: null, tokenEndpoint: null, deviceEndpoint: null, revocationEndpoint: null, scope: null };
}

/** OAuth2 settings of the smart host, and its sign-in: status, Sign in (URL or device code), Sign out. */
export function OAuth2Section({ server, user, settings, fieldError, onUser, onChange, onProvider }: {
  server: string; user: string | null; settings: OAuth2Settings; fieldError: FieldError;
  onUser(user: string | null): void; onChange(patch: Partial<OAuth2Settings>): void; onProvider(provider: OAuth2Settings['provider']): void;
}) {
  const styles = useStyles();
  const f = (name: string) => fieldError(`delivery.smartHost.oauth2.${name}`);
  return (
    <div className={styles.group}>
      <div className={styles.row}>
        <Field label="Provider">
          <Dropdown value={settings.provider === 'custom' ? 'Custom' : OAUTH_PROVIDERS[settings.provider].label} selectedOptions={[settings.provider]} onOptionSelect={(_e, v) => onProvider((v.optionValue ?? 'microsoft365') as OAuth2Settings['provider'])}>
            <Option value="microsoft365">{OAUTH_PROVIDERS.microsoft365.label}</Option><Option value="google">{OAUTH_PROVIDERS.google.label}</Option><Option value="custom">Custom</Option>
          </Dropdown>
        </Field>
        <Field label="Mailbox (signs in and sends)" validationMessage={fieldError('delivery.smartHost.user')}><Input value={user ?? ''} placeholder="scanner@contoso.com" onChange={(_e, v) => onUser(v.value.trim() || null)} /></Field>
      </div>
      <div className={styles.row}>
        <Field label="Application (client) ID" validationMessage={f('clientId')}><Input value={settings.clientId} onChange={(_e, v) => onChange({ clientId: v.value })} style={{ width: 320 }} /></Field>
        {settings.provider === 'microsoft365' && <Field label="Directory (tenant) ID" hint='or your domain; "organizations" = any work account' validationMessage={f('tenant')}><Input value={settings.tenant} onChange={(_e, v) => onChange({ tenant: v.value })} /></Field>}
      </div>
      <div className={styles.row}>
        <Field label="Sign-in" validationMessage={f('flow')}>
          <Dropdown value={FLOW_LABELS[settings.flow]} selectedOptions={[settings.flow]} onOptionSelect={(_e, v) => onChange({ flow: (v.optionValue ?? 'device') as OAuth2Settings['flow'] })} style={{ minWidth: 360 }}>
            {(Object.keys(FLOW_LABELS) as Array<keyof typeof FLOW_LABELS>).filter((k) => settings.provider !== 'google' || k === 'browser').map((k) => <Option key={k} value={k}>{FLOW_LABELS[k]}</Option>)}
          </Dropdown>
        </Field>
        {(settings.provider === 'google' || settings.flow === 'app' || settings.provider === 'custom') && (
          <Field label="Client secret" hint={settings.clientSecret === null ? 'stored, or not set (kept only while provider, tenant, endpoints and client stay the same)' : undefined} validationMessage={f('clientSecret')}>
            <Input type="password" value={settings.clientSecret ?? ''} onChange={(_e, v) => onChange({ clientSecret: v.value || null })} />
          </Field>
        )}
      </div>
      {settings.provider === 'custom' && (
        <>
          <Field label="Authorization endpoint" validationMessage={f('authorizationEndpoint')}><Input value={settings.authorizationEndpoint ?? ''} onChange={(_e, v) => onChange({ authorizationEndpoint: v.value.trim() || null })} /></Field>
          <Field label="Token endpoint" validationMessage={f('tokenEndpoint')}><Input value={settings.tokenEndpoint ?? ''} onChange={(_e, v) => onChange({ tokenEndpoint: v.value.trim() || null })} /></Field>
          <Field label="Device authorization endpoint" validationMessage={f('deviceEndpoint')}><Input value={settings.deviceEndpoint ?? ''} onChange={(_e, v) => onChange({ deviceEndpoint: v.value.trim() || null })} /></Field>
          <Field label="Revocation endpoint (RFC 7009, optional)" hint="Used at Sign out to end the grant at the provider too" validationMessage={f('revocationEndpoint')}><Input value={settings.revocationEndpoint ?? ''} onChange={(_e, v) => onChange({ revocationEndpoint: v.value.trim() || null })} /></Field>
          <Field label="Scope" validationMessage={f('scope')}><Input value={settings.scope ?? ''} onChange={(_e, v) => onChange({ scope: v.value.trim() || null })} /></Field>
        </>
      )}
      <SignInPanel server={server} />
    </div>
  );
}

export function SignInPanel({ server }: { server: string }) {
  const styles = useStyles();
  // The applied smart host: after Apply (or a sign-in event) the status is fetched again at once.
  const { servers } = useServers();
  const applied = JSON.stringify(servers?.find((s) => s.config.name === server)?.config.delivery.smartHost ?? null);
  const [events, setEvents] = useState(0);
  useEvents((event) => { if (event.type === 'smarthost-sign-in' && event.server === server) setEvents((n) => n + 1); });
  const [status, setStatus] = useState<SmartHostSignInStatus | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [notApplied, setNotApplied] = useState(false);
  const { error: actionError, busy, run } = useAction();
  const pending = status?.pending ?? null;
  useEffect(() => {
    let alive = true;
    // Before Apply the stored smart host has no OAuth2 yet: that is a hint, not an error.
    const load = () => api['smarthost.status']({ server }).then(
      (s) => { if (alive) { setStatus(s); setNotApplied(false); setLoadError(null); } },
      (err: unknown) => { if (alive) { const unsaved = ['server', 'route'].includes(errorField(err) ?? ''); setStatus(null); setNotApplied(unsaved); if (!unsaved) setLoadError(errorMessage(err)); } },
    );
    void load();
    // While a sign-in is under way, follow it; otherwise an occasional look is enough.
    const timer = setInterval(() => void load(), pending ? 2000 : 15000);
    return () => { alive = false; clearInterval(timer); };
  }, [server, pending, applied, events]);
  const act = (work: () => Promise<SmartHostSignInStatus>) => run(async () => {
    const next = await work();
    setStatus(next);
    setLoadError(null);
    if (next.pending?.flow === 'browser' && next.pending.url) window.open(next.pending.url, '_blank', 'noopener');
  });
  const error = actionError ?? loadError;
  const state = !status ? null : status.needsSignIn ? 'Sign-in needed: mail for other domains is waiting in the queue' : status.signedIn ? `Signed in as ${status.account ?? '?'}` : 'Not signed in';
  return (
    <div className={styles.form} aria-live="polite">
      <Text size={200} className={styles.muted}>Sign-in uses the applied settings: press Apply after changing them. Tokens are never shown; the refresh token is sealed ({status?.secretStore ?? 'key file'}).</Text>
      {notApplied && <MessageBar intent="info"><MessageBarBody>Press Apply to save these settings, then Sign in.</MessageBarBody></MessageBar>}
      {status && (
        <MessageBar intent={status.needsSignIn ? 'error' : status.signedIn ? 'success' : 'warning'}>
          <MessageBarBody>
            <MessageBarTitle>{state}</MessageBarTitle>
            {status.accessTokenExpiresAt && status.signedIn && ` Access token valid until ${new Date(status.accessTokenExpiresAt).toLocaleString()}.`}
            {status.lastError && ` Last error: ${status.lastError}`}
          </MessageBarBody>
        </MessageBar>
      )}
      {pending?.flow === 'device' && (
        <MessageBar intent="info">
          <MessageBarBody>
            <MessageBarTitle>On any device, open {pending.verificationUri} and enter</MessageBarTitle>
            <Text size={500} font="monospace" weight="semibold">{pending.userCode}</Text>
          </MessageBarBody>
        </MessageBar>
      )}
      {pending?.flow === 'browser' && pending.url && (
        <Text size={200}>Finish signing in in your browser. If no window opened, <a href={pending.url} target="_blank" rel="noreferrer">open the sign-in page</a>.</Text>
      )}
      {error && <MessageBar intent="error"><MessageBarBody>{error}</MessageBarBody></MessageBar>}
      <div className={styles.row}>
        <Button appearance="primary" disabled={busy || notApplied} onClick={() => void act(() => api['smarthost.signIn']({ server }))}>{status?.signedIn ? 'Sign in again' : 'Sign in'}</Button>
        {status?.signedIn || status?.needsSignIn ? <Button disabled={busy} onClick={() => void act(() => api['smarthost.signOut']({ server }))}>Sign out</Button> : null}
        {busy && <Spinner size="tiny" />}
      </div>
    </div>
  );
}
