// The smart host: presets from the contract, security, authentication and a trusted certificate.
import { Button, Checkbox, Dropdown, Field, Input, MessageBar, MessageBarBody, Option, Spinner, Text } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import type { SmartHostCertificate } from '../../../server/contract/admin-api';
import { graphScope, OAUTH_PROVIDERS, SMART_HOST_PRESETS, type SmartHostPreset, type VirtualServerConfig } from '../../../server/contract/settings';
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
        onChange={(_e, v) => set({ smartHost: v.checked ? { ...NEW_SMART_HOST } : null })} />
      {host && (
        <Field label="Transport">
          <Dropdown value={TRANSPORT_LABELS[host.transport]} selectedOptions={[host.transport]}
            onOptionSelect={(_e, v) => set({ smartHost: v.optionValue === 'graph' ? toGraph(host) : { ...NEW_SMART_HOST } })}>
            {Object.entries(TRANSPORT_LABELS).map(([value, label]) => <Option key={value} value={value}>{label}</Option>)}
          </Dropdown>
        </Field>
      )}
      {host?.transport === 'graph' && <GraphSettings host={host} setHost={(patch) => set({ smartHost: withGraphScope({ ...host, ...patch }) })} fieldError={fieldError} server={draft.name} />}
      {host && host.transport === 'smtp' && (
        <>
          <div className={styles.row}>
            <Field label="Preset">
              <Dropdown placeholder="Choose…" onOptionSelect={(_e, v) => { const p = presetOf(v.optionValue); if (p) setHost({ host: p.host, port: p.port, security: p.security, ...p.caps }); }}>
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
          <ProviderSetup host={host.host} port={host.port} />
          {host.port === 25 && (!host.host || /\.mail\.protection\./i.test(host.host)) && <ConnectorLookup onFound={(found) => setHost({ host: found, port: 25, security: 'starttls', authentication: 'none', user: null, password: null })} />}
          <Checkbox label="Verify the smart host's certificate" checked={host.verifyCertificate} onChange={(_e, v) => setHost({ verifyCertificate: Boolean(v.checked) })} />
          <div className={styles.row}>
            <CertificateChoice label="Client certificate (a certificate-based Microsoft 365 connector)" value={host.clientCertificate} onChange={(clientCertificate) => setHost({ clientCertificate })} />
            <Caps host={host} setHost={setHost} fieldError={fieldError} />
          </div>
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

type SmartHostSettings = NonNullable<VirtualServerConfig['delivery']['smartHost']>;

export const NEW_SMART_HOST: SmartHostSettings = {
  host: '', port: 587, security: 'starttls', verifyCertificate: true, authentication: 'basic', user: null, password: null, trustedCertificate: null, oauth2: null,
  transport: 'smtp', graphUrl: null, clientCertificate: null, maxMessagesPerMinute: null, maxRecipientsPerDay: null,
};

const TRANSPORT_LABELS = { smtp: 'SMTP relay (smart host)', graph: 'Microsoft Graph sendMail (works with SMTP AUTH off)' } as const;

/** Graph always asks for its own scope (app-only .default, or delegated Mail.Send). */
export function withGraphScope(host: SmartHostSettings): SmartHostSettings {
  return host.oauth2 ? { ...host, oauth2: { ...host.oauth2, scope: graphScope(host.graphUrl, host.oauth2.flow) } } : host;
}

export function toGraph(host: SmartHostSettings): SmartHostSettings {
  const oauth2 = { ...(host.oauth2 ?? newOAuth2('graph.microsoft.com')), provider: 'microsoft365' as const };
  return withGraphScope({ ...NEW_SMART_HOST, transport: 'graph', host: 'graph.microsoft.com', port: 443, security: 'tls', authentication: 'oauth2', user: host.user, oauth2, maxMessagesPerMinute: 30, maxRecipientsPerDay: 10_000 });
}

/** What the provider needs, for a preset whose host this is. */
function ProviderSetup({ host, port }: { host: string; port: number }) {
  const preset = Object.values(SMART_HOST_PRESETS).find((p) => (p.host ? p.host === host.toLowerCase() : port === p.port && (host === '' || /\.mail\.protection\./i.test(host))));
  if (!preset || (!host && preset !== SMART_HOST_PRESETS['microsoft365-connector'])) return null;
  return <MessageBar intent="info"><MessageBarBody><b>On the provider's side ({preset.label}):</b> {preset.setup}</MessageBarBody></MessageBar>;
}

/** Microsoft 365 connector relay: the tenant's MX host (contoso-com.mail.protection.outlook.com), looked up from its domain. */
function ConnectorLookup({ onFound }: { onFound(host: string): void }) {
  const styles = useStyles();
  const [domain, setDomain] = useState('');
  const { error, busy, run } = useAction();
  const [note, setNote] = useState<string | null>(null);
  return (
    <div className={styles.row}>
      <Field label="Your Microsoft 365 domain" validationMessage={error ?? note ?? undefined}><Input value={domain} onChange={(_e, v) => setDomain(v.value)} placeholder="contoso.com" /></Field>
      <Button disabled={busy || !domain.trim()} onClick={() => void run(async () => {
        const hosts = await api['dns.mx']({ domain: domain.trim() });
        const microsoft = hosts.find((h) => /\.mail\.protection\./i.test(h.host));
        if (microsoft) {
          setNote(null);
          onFound(microsoft.host);
        } else {
          setNote(`${domain.trim()}'s MX is ${hosts.map((h) => h.host).join(', ') || 'not set'}, not Microsoft 365: type the host yourself`);
        }
      })}>Find its MX</Button>
    </div>
  );
}

function CertificateChoice({ label, value, onChange }: { label: string; value: string | null; onChange(name: string | null): void }) {
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => { void api['certificates.list']({}).then((list) => setNames(list.map((c) => c.name)), () => setNames([])); }, []);
  return (
    <Field label={label}>
      <Dropdown value={value ?? 'None'} selectedOptions={[value ?? '']} onOptionSelect={(_e, v) => onChange(v.optionValue ? v.optionValue : null)}>
        <Option value="">None</Option>
        {names.map((n) => <Option key={n} value={n}>{n}</Option>)}
      </Dropdown>
    </Field>
  );
}

/** The provider's caps the queue keeps to (empty = none). */
function Caps({ host, setHost, fieldError }: { host: SmartHostSettings; setHost(patch: Partial<SmartHostSettings>): void; fieldError: FieldError }) {
  const number = (value: string) => (value.trim() === '' ? null : Number(value));
  return (
    <>
      <Field label="Messages a minute" hint="provider's cap; empty = none" validationMessage={fieldError('delivery.smartHost.maxMessagesPerMinute')}>
        <Input type="number" value={host.maxMessagesPerMinute === null ? '' : String(host.maxMessagesPerMinute)} style={{ width: 110 }} onChange={(_e, v) => setHost({ maxMessagesPerMinute: number(v.value) })} />
      </Field>
      <Field label="Recipients a day" validationMessage={fieldError('delivery.smartHost.maxRecipientsPerDay')}>
        <Input type="number" value={host.maxRecipientsPerDay === null ? '' : String(host.maxRecipientsPerDay)} style={{ width: 110 }} onChange={(_e, v) => setHost({ maxRecipientsPerDay: number(v.value) })} />
      </Field>
    </>
  );
}

/** Microsoft Graph: the mailbox it sends as, the app's sign-in (app-only with a secret or certificate, or as the mailbox), caps. */
export function GraphSettings({ host, setHost, fieldError, server }: { host: SmartHostSettings; setHost(patch: Partial<SmartHostSettings>): void; fieldError: FieldError; server: string }) {
  const styles = useStyles();
  const oauth2 = host.oauth2 ?? newOAuth2('graph.microsoft.com');
  return (
    <div className={styles.group}>
      <MessageBar intent="info"><MessageBarBody>
        <b>On the provider's side:</b> Entra admin center → App registrations → the app → API permissions → Microsoft Graph → {oauth2.flow === 'app' ? 'Application permissions' : 'Delegated permissions'} → Mail.Send → Grant admin consent
        {oauth2.flow === 'app' ? '; limit the app to this mailbox with an application access policy (New-ApplicationAccessPolicy) or RBAC for Applications. With a certificate: Certificates & secrets → Certificates → Upload (Certificates page → Export).' : '.'} Messages go as they are, up to about 3 MB; the From address must be the mailbox or one it may send as.
      </MessageBarBody></MessageBar>
      <div className={styles.row}>
        <Field label="Microsoft Graph address" hint="empty = https://graph.microsoft.com (sovereign clouds have their own)" validationMessage={fieldError('delivery.smartHost.graphUrl')}>
          <Input value={host.graphUrl ?? ''} onChange={(_e, v) => setHost({ graphUrl: v.value.trim() || null })} />
        </Field>
        <Field label="Sign-in address" hint="empty = https://login.microsoftonline.com" validationMessage={fieldError('delivery.smartHost.oauth2.authority')}>
          <Input value={oauth2.authority ?? ''} onChange={(_e, v) => setHost({ oauth2: { ...oauth2, authority: v.value.trim() || null } })} />
        </Field>
      </div>
      <div className={styles.row}>
        {oauth2.flow === 'app' && <CertificateChoice label="Certificate (instead of a client secret)" value={oauth2.certificate} onChange={(certificate) => setHost({ oauth2: { ...oauth2, certificate, ...(certificate ? { clientSecret: null } : {}) } })} />}
        <Caps host={host} setHost={setHost} fieldError={fieldError} />
      </div>
      <OAuth2Section server={server} user={host.user} settings={oauth2} fieldError={fieldError}
        onUser={(user) => setHost({ user })} onChange={(patch) => setHost({ oauth2: { ...oauth2, ...patch } })}
        onProvider={(provider) => setHost({ oauth2: { ...oauth2, provider: provider === 'google' ? 'microsoft365' : provider } })} />
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
