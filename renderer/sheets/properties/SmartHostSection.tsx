// The smart host: presets from the contract, security, authentication and a trusted certificate.
import { Button, Checkbox, Dropdown, Field, Input, MessageBar, MessageBarBody, Option, Spinner, Text } from '@fluentui/react-components';
import { useState } from 'react';
import type { SmartHostCertificate } from '../../../server/contract/admin-api';
import { OAUTH_PROVIDERS, SMART_HOST_PRESETS, type SmartHostPreset, type VirtualServerConfig } from '../../../server/contract/settings';
import { api } from '../../api/client';
import { useAction } from '../../api/hooks';
import { type FieldError, usePropertyStyles as useStyles } from './shared';
import { newOAuth2, OAuth2Section } from './OAuth2Section';

/** The contract's ready-made smart hosts (the same list the CLI offers). */
function presetOf(key: string | undefined) {
  return key && key in SMART_HOST_PRESETS ? SMART_HOST_PRESETS[key as SmartHostPreset] : null;
}

export type DeliveryNumber = 'delayNotificationHours' | 'expirationHours' | 'outboundConnections' | 'outboundConnectionsPerDomain' | 'outboundTimeoutSeconds' | 'outboundPort';
/** The Delivery tab's plain number fields, row by row. */
export const DELIVERY_NUMBER_ROWS: Array<Array<{ key: DeliveryNumber; label: string; hint?: string }>> = [
  [
    { key: 'delayNotificationHours', label: 'Delay notification (hours)', hint: 'Tell the sender once that it is still queued' },
    { key: 'expirationHours', label: 'Expiration time-out (hours)', hint: 'Then a non-delivery report to the sender' },
  ],
  [
    { key: 'outboundConnections', label: 'Outbound connections' },
    { key: 'outboundConnectionsPerDomain', label: 'Per destination' },
    { key: 'outboundTimeoutSeconds', label: 'Time-out (seconds)' },
    { key: 'outboundPort', label: 'TCP port for direct delivery' },
  ],
];

export const AUTHENTICATION_LABELS = { none: 'None (anonymous)', basic: 'Basic (user name and password)', oauth2: 'OAuth2 (Microsoft 365, Google)' } as const;

export function SmartHostSection({ draft, set, fieldError }: { draft: VirtualServerConfig; set(p: Partial<VirtualServerConfig['delivery']>): void; fieldError: FieldError }) {
  const styles = useStyles();
  const d = draft.delivery;
  const host = d.smartHost;
  const setHost = (patch: Partial<NonNullable<typeof host>>) => host && set({ smartHost: { ...host, ...patch } });
  const r = d.retryMinutes;
  return (
    <div className={styles.group}>
      <Text className={styles.groupTitle}>Mail for other domains</Text>
      <Checkbox label="Hold mail for other domains in the queue (local domains still deliver)" checked={d.holdRemote} onChange={(_e, v) => set({ holdRemote: Boolean(v.checked) })} />
      <Checkbox label="Send it through a smart host (otherwise directly, by MX)" checked={host !== null}
        onChange={(_e, v) => set({ smartHost: v.checked ? { host: '', port: 587, security: 'starttls', verifyCertificate: true, authentication: 'basic', user: null, password: null, trustedCertificate: null, oauth2: null } : null })} />
      {host && (
        <>
          <div className={styles.row}>
            <Field label="Preset">
              <Dropdown placeholder="Choose…" onOptionSelect={(_e, v) => { const p = presetOf(v.optionValue); if (p) setHost({ host: p.host, port: p.port, security: p.security }); }}>
                {Object.entries(SMART_HOST_PRESETS).map(([key, p]) => <Option key={key} value={key}>{p.label}</Option>)}
              </Dropdown>
            </Field>
            <Field label="Smart host" validationMessage={fieldError('delivery.smartHost.host')}><Input value={host.host} onChange={(_e, v) => setHost({ host: v.value })} /></Field>
            <Field label="Port" validationMessage={fieldError('delivery.smartHost.port')}><Input type="number" value={String(host.port)} style={{ width: 90 }} onChange={(_e, v) => setHost({ port: Number(v.value) })} /></Field>
            <Field label="Security">
              <Dropdown value={{ starttls: 'STARTTLS required', tls: 'Implicit TLS (465)', none: 'None (not recommended)' }[host.security]} selectedOptions={[host.security]} onOptionSelect={(_e, v) => setHost({ security: (v.optionValue ?? 'starttls') as 'starttls' })}>
                <Option value="starttls">STARTTLS required</Option><Option value="tls">Implicit TLS (465)</Option><Option value="none">None (not recommended)</Option>
              </Dropdown>
            </Field>
          </div>
          <Checkbox label="Verify the smart host's certificate" checked={host.verifyCertificate} onChange={(_e, v) => setHost({ verifyCertificate: Boolean(v.checked) })} />
          {host.security !== 'none' && <TrustedCertificate server={draft.name} trusted={host.trustedCertificate} onTrusted={(pem) => setHost({ trustedCertificate: pem })} />}
          <div className={styles.row}>
            <Field label="Outbound authentication">
              <Dropdown value={AUTHENTICATION_LABELS[host.authentication]} selectedOptions={[host.authentication]}
                onOptionSelect={(_e, v) => {
                  const authentication = (v.optionValue ?? 'none') as typeof host.authentication;
                  setHost({ authentication, ...(authentication === 'oauth2' && !host.oauth2 ? { oauth2: newOAuth2(host.host) } : {}) });
                }}>
                {Object.entries(AUTHENTICATION_LABELS).map(([value, label]) => <Option key={value} value={value}>{label}</Option>)}
              </Dropdown>
            </Field>
            {host.authentication === 'basic' && (
              <>
                <Field label="Account" validationMessage={fieldError('delivery.smartHost.user')}><Input value={host.user ?? ''} onChange={(_e, v) => setHost({ user: v.value || null })} /></Field>
                <Field label="Password" hint={host.password === null ? 'stored, or not set (a stored password is kept only while host, port, security, certificate checking and user stay the same)' : undefined} validationMessage={fieldError('delivery.smartHost.password')}><Input type="password" value={host.password ?? ''} onChange={(_e, v) => setHost({ password: v.value || null })} /></Field>
              </>
            )}
          </div>
          {host.authentication === 'oauth2' && host.oauth2 && (
            <OAuth2Section server={draft.name} user={host.user} settings={host.oauth2} fieldError={fieldError}
              onUser={(user) => setHost({ user })} onChange={(patch) => host.oauth2 && setHost({ oauth2: { ...host.oauth2, ...patch } })}
              onProvider={(provider) => {
                const preset = provider === 'custom' ? null : OAUTH_PROVIDERS[provider].smartHost;
                setHost({ ...(preset ? { host: preset.host, port: preset.port, security: 'starttls' } : {}), oauth2: { ...(host.oauth2 ?? newOAuth2(host.host)), provider, flow: provider === 'google' ? 'browser' : host.oauth2?.flow ?? 'device' } });
              }} />
          )}
          <Checkbox label="Attempt direct delivery before sending to smart host" checked={d.attemptDirectFirst} onChange={(_e, v) => set({ attemptDirectFirst: Boolean(v.checked) })} />
        </>
      )}
      <div className={styles.row}>
        {(['first', 'second', 'third', 'subsequent'] as const).map((k) => (
          <Field key={k} label={`${k[0]?.toUpperCase()}${k.slice(1)} retry (minutes)`} validationMessage={fieldError(`delivery.retryMinutes.${k}`)}>
            <Input type="number" value={String(r[k])} style={{ width: 110 }} onChange={(_e, v) => set({ retryMinutes: { ...r, [k]: Number(v.value) } })} />
          </Field>
        ))}
      </div>
      {DELIVERY_NUMBER_ROWS.map((row, i) => (
        <div className={styles.row} key={i}>
          {row.map(({ key, label, hint }) => (
            <Field key={key} label={label} hint={hint} validationMessage={fieldError(`delivery.${key}`)}>
              <Input type="number" value={String(d[key])} style={{ width: 110 }} onChange={(_e, v) => set({ [key]: Number(v.value) })} />
            </Field>
          ))}
        </div>
      ))}
    </div>
  );
}

/** Trust a smart host's own certificate (self-signed, private CA) by its SHA-256 fingerprint. */
export function TrustedCertificate({ server, trusted, onTrusted }: { server: string; trusted: string | null; onTrusted(pem: string | null): void }) {
  const styles = useStyles();
  const [shown, setShown] = useState<SmartHostCertificate | null>(null);
  const { error, busy, run } = useAction();
  return (
    <div className={styles.group}>
      <Text size={200}>
        {trusted ? 'A pinned certificate is trusted: only that certificate is accepted, whatever its issuer or name.'
          : 'For a smart host with its own (self-signed or private CA) certificate, trust it by its SHA-256 fingerprint. Uses the applied settings.'}
      </Text>
      <div className={styles.row}>
        <Button disabled={busy} onClick={() => void run(async () => setShown(await api['smarthost.fetchCertificate']({ server })))}>Show the smart host's certificate</Button>
        {trusted && <Button disabled={busy} onClick={() => void run(async () => { await api['smarthost.trust']({ server, fingerprint: null }); onTrusted(null); })}>Stop trusting it</Button>}
        {busy && <Spinner size="tiny" />}
      </div>
      {error && <MessageBar intent="error"><MessageBarBody>{error}</MessageBarBody></MessageBar>}
      {shown && (
        <>
          <Text size={200} className={styles.muted}>{shown.subject} · issued by {shown.issuer} · valid until {new Date(shown.validTo).toLocaleDateString()}</Text>
          <Text size={200} font="monospace">SHA-256 {shown.fingerprint256}</Text>
          <Text size={200}>{shown.verifies ? 'It verifies with the system\'s certificate authorities: no pin is needed.' : `It does not verify (${shown.verifyError ?? 'unknown'}). Compare the fingerprint with the one the smart host's administrator gives you before trusting it.`}</Text>
          <div className={styles.row}>
            <Button appearance="primary" disabled={busy} onClick={() => void run(async () => { const pinned = await api['smarthost.trust']({ server, fingerprint: shown.fingerprint256 }); onTrusted(pinned?.pem ?? null); })}>Trust this certificate</Button>
          </div>
        </>
      )}
    </div>
  );
}
