// The Properties dialog of a virtual server: General, Access, Messages and Delivery tabs, in the
// words of IIS and KB 823019. Edits are a draft until OK or Apply; the server's field errors are
// shown at the field; a change that opens a relay or locks everyone out asks first and says why.
import {
  Button, Checkbox, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Dropdown, Field, Input, makeStyles,
  MessageBar, MessageBarBody, MessageBarTitle, Option, Spinner, Tab, TabList, Text, tokens,
} from '@fluentui/react-components';
import { type ReactNode, useEffect, useState } from 'react';
import type { SmartHostCertificate, SmartHostSignInStatus } from '../../server/contract/admin-api';
import { type AccessSettings, type AddressRule, type OAuth2Settings, OAUTH_PROVIDERS, type VirtualServerConfig } from '../../server/contract/settings';
import { api, errorField, errorMessage } from '../api/client';
import { useAction, useApiData, useEvents } from '../api/hooks';
import { serversChanged, useServers } from '../api/servers';
import { ConfirmDialog } from '../components/ui';
import { AddressListDialog, REVERSE_DNS_WARNING } from './AddressListDialog';
import { LockoutFields } from './LockoutFields';
import { riskOf } from '../../server/contract/risk';
import { TrustedDevicesDialog } from './TrustedDevicesDialog';

const useStyles = makeStyles({
  surface: { width: 'min(720px, 96vw)', maxWidth: '96vw' },
  body: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, minHeight: '440px' },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  row: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'flex-end', flexWrap: 'wrap' },
  group: { border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium, padding: tokens.spacingHorizontalM, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  groupTitle: { fontWeight: tokens.fontWeightSemibold },
  accessRow: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, justifyContent: 'space-between' },
  indent: { marginLeft: tokens.spacingHorizontalXXL },
  muted: { color: tokens.colorNeutralForeground3 },
});

type TabId = 'general' | 'access' | 'messages' | 'delivery';
type Editing = null | 'authentication' | 'certificate' | 'communication' | 'connection' | 'relay' | 'devices';

const KB = 1024;

/**
 * Switching Connection control between "Only the list below" and "All except the list below" with
 * entries turns an allow-list into a deny-list (or back): ask first, with what the simulator says
 * for this machine's own address under the new settings.
 */
async function modeSwitchRisk(saved: VirtualServerConfig, draft: VirtualServerConfig): Promise<{ title: string; why: string } | null> {
  if (saved.access.connectionMode === draft.access.connectionMode || draft.connectionRules.length === 0) return null;
  const entries = draft.connectionRules.length;
  const meaning = draft.access.connectionMode === 'all-except'
    ? `the ${entries} listed computer(s) will be REFUSED and every other computer admitted`
    : `ONLY the ${entries} listed computer(s) will be admitted and every other refused`;
  let here = '';
  try {
    const result = await api['policy.simulate']({ server: saved.name, draft, address: '127.0.0.1', tls: true, mailFrom: '', rcptTo: ['postmaster@example.com'] });
    const connect = result.steps[0]?.decision;
    if (connect) here = ` For this machine (127.0.0.1) the simulator says: ${connect.code} ${connect.enhanced} ${connect.text} [${connect.rule}].`;
  } catch { /* the warning stands without the simulator's line */ }
  return { title: 'The list will mean the opposite', why: `Connection control changes from "${saved.access.connectionMode === 'only-list' ? 'Only the list below' : 'All except the list below'}" to "${draft.access.connectionMode === 'only-list' ? 'Only the list below' : 'All except the list below'}": ${meaning}.${here}` };
}

function numberOrNull(text: string): number | null {
  return text.trim() === '' ? null : Number(text);
}

export function ServerProperties({ name, onClose }: { name: string; onClose(): void }) {
  const styles = useStyles();
  const [tab, setTab] = useState<TabId>('general');
  const [saved, setSaved] = useState<VirtualServerConfig | null>(null);
  const [draft, setDraft] = useState<VirtualServerConfig | null>(null);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [editing, setEditing] = useState<Editing>(null);
  const [confirm, setConfirm] = useState<{ title: string; why: string; then: () => void } | null>(null);
  const [busy, setBusy] = useState(false);
  /** What the engine did with the last Apply: listening (where), or cannot listen (why). */
  const [applied, setApplied] = useState<{ ok: true; where: string } | { ok: false; why: string } | null>(null);

  useEffect(() => {
    api['servers.get']({ name }).then((config) => { setSaved(config); setDraft(config); }, (err: unknown) => setError({ message: errorMessage(err) }));
  }, [name]);

  const change = (patch: Partial<VirtualServerConfig>) => setDraft((d) => (d ? { ...d, ...patch } : d));
  // Derived, never remembered: the draft differs from what the store holds.
  const dirty = Boolean(draft && saved && JSON.stringify(draft) !== JSON.stringify(saved));
  const changeAccess = (patch: Partial<AccessSettings>) => setDraft((d) => (d ? { ...d, access: { ...d.access, ...patch } } : d));
  const fieldError = (...fields: string[]) => (error?.field && fields.some((f) => error.field === f || error.field?.startsWith(`${f}.`) || error.field?.startsWith(`${f}[`)) ? error.message.replace(/^[\w.[\]]+: /, '') : undefined);

  const apply = async (close: boolean) => {
    if (!draft || !saved) return;
    const doApply = async () => {
      setBusy(true);
      try {
        const { certificate, ...rest } = draft;
        const updated = await api['servers.update']({ name: saved.name, patch: { ...rest, certificate } });
        setSaved(updated);
        setDraft(updated);
        setError(null);
        serversChanged();
        // Say what the engine did, not what was saved: a port another program holds is not "applied".
        const summary = (await api['servers.list']({})).find((s) => s.config.name === updated.name);
        const failure = summary?.bindFailures[0];
        if (updated.state !== 'stopped' && (!summary?.running) && failure) {
          setApplied({ ok: false, why: `${failure.address === 'all' ? 'all addresses' : failure.address}:${failure.port}: ${failure.message}` });
          return; // the dialog stays open with the reason, even after OK
        }
        setApplied({ ok: true, where: summary?.running ? summary.listening.map((l) => `${l.address === 'all' ? 'all addresses' : l.address}:${l.port}`).join(', ') : 'nowhere (the server is stopped)' });
        if (close) onClose();
      } catch (err) {
        const field = errorField(err);
        setError({ message: errorMessage(err), field });
        if (field) setTab(field.startsWith('messages') ? 'messages' : field.startsWith('delivery') ? 'delivery' : field.startsWith('access') || field.startsWith('connectionRules') || field.startsWith('relayRules') || field === 'certificate' ? 'access' : 'general');
      } finally {
        setBusy(false);
      }
    };
    const risk = riskOf(draft) ?? await modeSwitchRisk(saved, draft);
    if (risk && (!saved || riskOf(saved)?.title !== risk.title)) setConfirm({ ...risk, then: () => void doApply() });
    else await doApply();
  };

  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) onClose(); }}>
      <DialogSurface className={styles.surface} aria-label={`${name} Properties`}>
        <DialogBody>
          <DialogTitle>{name} Properties</DialogTitle>
          <DialogContent className={styles.body}>
            {!draft && !error && <Spinner label="Loading settings…" />}
            {draft && (
              <>
                <TabList selectedValue={tab} onTabSelect={(_e, d) => setTab(d.value as TabId)}>
                  <Tab value="general">General</Tab>
                  <Tab value="access">Access</Tab>
                  <Tab value="messages">Messages</Tab>
                  <Tab value="delivery">Delivery</Tab>
                </TabList>
                {error && !error.field && <MessageBar intent="error"><MessageBarBody>{error.message}</MessageBarBody></MessageBar>}
                {error?.field && <MessageBar intent="error"><MessageBarBody><MessageBarTitle>Not applied</MessageBarTitle>{error.message}</MessageBarBody></MessageBar>}
                {applied && !dirty && (applied.ok
                  ? <MessageBar intent="success"><MessageBarBody>Applied. The server listens on {applied.where} with the new settings.</MessageBarBody></MessageBar>
                  : <MessageBar intent="error"><MessageBarBody><MessageBarTitle>Saved, but the server is not listening</MessageBarTitle>It cannot listen on {applied.why}. Choose another port, or stop the program that holds it; clients cannot connect until then.</MessageBarBody></MessageBar>)}
                {tab === 'general' && <GeneralTab draft={draft} saved={saved} change={change} fieldError={fieldError} />}
                {tab === 'access' && <AccessTab draft={draft} open={setEditing} />}
                {tab === 'messages' && <MessagesTab draft={draft} change={change} fieldError={fieldError} />}
                {tab === 'delivery' && <DeliveryTab draft={draft} change={change} changeAccess={changeAccess} fieldError={fieldError} />}
              </>
            )}
          </DialogContent>
          <DialogActions>
            <Button appearance="primary" disabled={!draft || busy} onClick={() => void apply(true)}>OK</Button>
            <Button onClick={onClose}>Cancel</Button>
            <Button disabled={!draft || busy || !dirty} onClick={() => void apply(false)}>Apply</Button>
          </DialogActions>
        </DialogBody>
        {/* Nested dialogs live inside the parent surface, so the parent is restored when they close. */}
      {draft && editing === 'authentication' && <AuthenticationDialog access={draft.access} onDone={(a) => { changeAccess(a); setEditing(null); }} onCancel={() => setEditing(null)} />}
      {draft && editing === 'communication' && <CommunicationDialog access={draft.access} onDone={(a) => { changeAccess(a); setEditing(null); }} onCancel={() => setEditing(null)} />}
      {draft && editing === 'certificate' && <CertificateChoiceDialog current={draft.certificate} fqdn={draft.fqdn} onDone={(certificate) => { change({ certificate }); setEditing(null); }} onCancel={() => setEditing(null)} />}
      {draft && editing === 'connection' && (
        <AddressListDialog title="Connection" intro="Select which computers may connect to this virtual server." mode={draft.access.connectionMode} rules={draft.connectionRules}
          onDone={(r) => { setDraft({ ...draft, connectionRules: r.rules, access: { ...draft.access, connectionMode: r.mode } }); setEditing(null); }} onCancel={() => setEditing(null)} />
      )}
      {draft && editing === 'relay' && (
        <AddressListDialog title="Relay restrictions" intro="Select which computers may relay through this virtual server (send to domains that are not accepted here)."
          mode={draft.access.relayMode} rules={draft.relayRules} authenticatedRelay={draft.access.relayForAuthenticated}
          onDone={(r) => { setDraft({ ...draft, relayRules: r.rules, access: { ...draft.access, relayMode: r.mode, relayForAuthenticated: Boolean(r.authenticatedRelay) } }); setEditing(null); }} onCancel={() => setEditing(null)} />
      )}
      {draft && editing === 'devices' && (
        <TrustedDevicesDialog devices={draft.access.trustedDevices} onDone={(trustedDevices) => { changeAccess({ trustedDevices }); setEditing(null); }} onCancel={() => setEditing(null)} />
      )}
      {confirm && (
        <ConfirmDialog open title={confirm.title} confirmLabel="Apply anyway" danger onCancel={() => setConfirm(null)} onConfirm={() => { const then = confirm.then; setConfirm(null); then(); }}>
          <Text>{confirm.why}</Text>
        </ConfirmDialog>
      )}
      </DialogSurface>
    </Dialog>
  );
}

type FieldError = (...fields: string[]) => string | undefined;

function GeneralTab({ draft, saved, change, fieldError }: { draft: VirtualServerConfig; saved: VirtualServerConfig | null; change(p: Partial<VirtualServerConfig>): void; fieldError: FieldError }) {
  const styles = useStyles();
  const addresses = useApiData(() => api['system.addresses']({}), []);
  const [other, setOther] = useState(false);
  const [dns, setDns] = useState<{ text: string; ok: boolean } | null>(null);
  const checkDns = async () => {
    setDns(null);
    try {
      const result = await api['dns.checkFqdn']({ name: saved?.name ?? draft.name });
      setDns({ text: result.message, ok: result.pointsHere });
    } catch (err) {
      setDns({ text: errorMessage(err), ok: false });
    }
  };
  return (
    <div className={styles.form}>
      <Field label="Name" validationMessage={fieldError('name')}><Input value={draft.name} onChange={(_e, d) => change({ name: d.value })} /></Field>
      <div className={styles.row}>
        <Field label="IP address" validationMessage={fieldError('bindAddress')} style={{ minWidth: 260 }}>
          <Dropdown value={draft.bindAddress === 'all' ? '(All Unassigned)' : draft.bindAddress} selectedOptions={[draft.bindAddress]}
            onOptionSelect={(_e, d) => { if (d.optionValue && d.optionValue !== 'other') change({ bindAddress: d.optionValue }); else if (d.optionValue === 'other') setOther(true); }}>
            <Option value="all">(All Unassigned)</Option>
            {(addresses.data ?? []).map((a) => <Option key={`${a.interface}-${a.address}`} value={a.address} text={a.address}>{`${a.address} (${a.interface}${a.internal ? ', this machine only' : ''})`}</Option>)}
            <Option value="other">Other address…</Option>
          </Dropdown>
        </Field>
        {(other || (draft.bindAddress !== 'all' && !(addresses.data ?? []).some((a) => a.address === draft.bindAddress))) && (
          <Field label="Address" hint="IPv4 or IPv6 of this machine"><Input value={draft.bindAddress === 'all' ? '' : draft.bindAddress} onChange={(_e, d) => change({ bindAddress: d.value })} /></Field>
        )}
        <Field label="TCP port" validationMessage={fieldError('port')}><Input type="number" value={String(draft.port)} onChange={(_e, d) => change({ port: Number(d.value) })} style={{ width: 110 }} /></Field>
      </div>
      <div className={styles.row}>
        <Checkbox label="Implicit TLS port (SMTPS)" checked={draft.tlsPort !== null} onChange={(_e, d) => change({ tlsPort: d.checked ? 465 : null })} />
        {draft.tlsPort !== null && <Field validationMessage={fieldError('tlsPort')}><Input type="number" aria-label="Implicit TLS port" value={String(draft.tlsPort)} onChange={(_e, d) => change({ tlsPort: Number(d.value) })} style={{ width: 110 }} /></Field>}
      </div>
      {(draft.port < 1024 || (draft.tlsPort ?? 1024) < 1024) && (
        <MessageBar intent="info"><MessageBarBody>Ports below 1024 need privileges on Linux (setcap cap_net_bind_service on the program, or a port redirect); Windows and macOS allow them.</MessageBarBody></MessageBar>
      )}
      <div className={styles.row}>
        <Field label="Fully qualified domain name (FQDN)" hint="Used in the greeting, the EHLO reply and the Received header" validationMessage={fieldError('fqdn')} style={{ flexGrow: 1 }}>
          <Input value={draft.fqdn} onChange={(_e, d) => change({ fqdn: d.value })} />
        </Field>
        <Button onClick={() => void checkDns()}>Check DNS</Button>
      </div>
      {dns && <MessageBar intent={dns.ok ? 'success' : 'warning'}><MessageBarBody>{dns.text}{saved && saved.fqdn !== draft.fqdn ? ' (checked the applied name; apply to check the new one)' : ''}</MessageBarBody></MessageBar>}
      <div className={styles.row}>
        <Checkbox label="Limit number of connections to" checked={draft.maxConnections !== null} onChange={(_e, d) => change({ maxConnections: d.checked ? 100 : null })} />
        {draft.maxConnections !== null && <Field validationMessage={fieldError('maxConnections')}><Input type="number" aria-label="Connection limit" value={String(draft.maxConnections)} onChange={(_e, d) => change({ maxConnections: numberOrNull(d.value) })} style={{ width: 110 }} /></Field>}
      </div>
      <div className={styles.row}>
        <Checkbox label="Limit connections from one client address to" checked={draft.access.maxConnectionsPerAddress !== null}
          onChange={(_e, d) => change({ access: { ...draft.access, maxConnectionsPerAddress: d.checked ? 20 : null } })} />
        {draft.access.maxConnectionsPerAddress !== null && (
          <Field validationMessage={fieldError('access.maxConnectionsPerAddress')}>
            <Input type="number" aria-label="Connections per client address" value={String(draft.access.maxConnectionsPerAddress)} style={{ width: 110 }}
              onChange={(_e, d) => change({ access: { ...draft.access, maxConnectionsPerAddress: numberOrNull(d.value) } })} />
          </Field>
        )}
      </div>
      <Field label="Connection time-out (seconds)" validationMessage={fieldError('connectionTimeoutSeconds')}>
        <Input type="number" value={String(draft.connectionTimeoutSeconds)} onChange={(_e, d) => change({ connectionTimeoutSeconds: Number(d.value) })} style={{ width: 110 }} />
      </Field>
      <Checkbox label="Enable logging (live log and its history)" checked={draft.loggingEnabled} onChange={(_e, d) => change({ loggingEnabled: Boolean(d.checked) })} />
      <Field label="Greeting text" validationMessage={fieldError('banner')}
        hint={`Clients see "220 ${draft.fqdn} ESMTP${draft.banner ? ` ${draft.banner}` : ''}". Empty by default: the product name tells an attacker what to try.`}>
        <Input value={draft.banner ?? ''} placeholder="(nothing after ESMTP)" onChange={(_e, d) => change({ banner: d.value === '' ? null : d.value })} />
      </Field>
    </div>
  );
}

function AccessRow({ title, rows }: { title: string; rows: Array<{ summary: ReactNode; button: string; onClick(): void }> }) {
  const styles = useStyles();
  return (
    <div className={styles.group}>
      <Text className={styles.groupTitle}>{title}</Text>
      {rows.map((row) => (
        <div key={row.button} className={styles.accessRow}>
          <Text size={200} className={styles.muted}>{row.summary}</Text>
          <Button onClick={row.onClick} style={{ flexShrink: 0 }}>{row.button}</Button>
        </div>
      ))}
    </div>
  );
}

function AccessTab({ draft, open }: { draft: VirtualServerConfig; open(e: Editing): void }) {
  const styles = useStyles();
  const a = draft.access;
  const auth = [a.anonymous && 'anonymous', a.basicAuth && `basic${a.basicRequiresTls ? ' (TLS required)' : ''}`, a.cramMd5 && 'CRAM-MD5'].filter(Boolean).join(', ') || 'none';
  const listText = (mode: string, rules: AddressRule[]) => `${mode === 'only-list' ? 'Only the list below' : 'All except the list below'}; ${rules.length} entr${rules.length === 1 ? 'y' : 'ies'}`;
  return (
    <div className={styles.form}>
      <AccessRow title="Access control" rows={[{ summary: `Enable anonymous access and edit the authentication methods. Now: ${auth}.`, button: 'Authentication…', onClick: () => open('authentication') }]} />
      <AccessRow title="Secure communication" rows={[
        { summary: `View or set the certificate. Now: ${draft.certificate ?? 'none (STARTTLS is not offered)'}.`, button: 'Certificate…', onClick: () => open('certificate') },
        { summary: `${a.requireSecureChannel ? 'Secure channel required' : 'Secure channel optional'}; ${a.requireStrongEncryption ? 'strong encryption' : 'TLS 1.2+'}${a.allowLegacyTls && !a.requireStrongEncryption ? '; legacy TLS 1.0/1.1 allowed' : ''}.`, button: 'Communication…', onClick: () => open('communication') },
      ]} />
      <AccessRow title="Connection control" rows={[{ summary: `Grant or deny access using IP addresses or domain names. Now: ${listText(a.connectionMode, draft.connectionRules)}.`, button: 'Connection…', onClick: () => open('connection') }]} />
      <AccessRow title="Relay restrictions" rows={[{ summary: `Grant or deny relay permissions. Now: ${listText(a.relayMode, draft.relayRules)}${a.relayForAuthenticated ? '; authenticated users may relay' : ''}.`, button: 'Relay…', onClick: () => open('relay') }]} />
      <AccessRow title="Devices that cannot sign in" rows={[{ summary: `Scanners and applications that may send without a password, pinned to their senders. Now: ${a.trustedDevices.length === 0 ? 'none' : a.trustedDevices.map((d) => d.name).join(', ')}.`, button: 'Trusted devices…', onClick: () => open('devices') }]} />
    </div>
  );
}

function AuthenticationDialog({ access, onDone, onCancel }: { access: AccessSettings; onDone(a: Partial<AccessSettings>): void; onCancel(): void }) {
  const styles = useStyles();
  const [a, setA] = useState(access);
  const set = (patch: Partial<AccessSettings>) => setA({ ...a, ...patch });
  return (
    <SubDialog title="Authentication" onOk={() => onDone(a)} onCancel={onCancel}>
      <Checkbox label="Anonymous access" checked={a.anonymous} onChange={(_e, d) => set({ anonymous: Boolean(d.checked) })} />
      <Text size={200} className={`${styles.indent} ${styles.muted}`}>No user name or password required. Relay restrictions still apply.</Text>
      <Checkbox label="Basic authentication (AUTH PLAIN and LOGIN)" checked={a.basicAuth} onChange={(_e, d) => set({ basicAuth: Boolean(d.checked) })} />
      <div className={styles.indent}>
        <Checkbox label="Requires TLS encryption" disabled={!a.basicAuth} checked={a.basicRequiresTls} onChange={(_e, d) => set({ basicRequiresTls: Boolean(d.checked) })} />
        {a.basicAuth && !a.basicRequiresTls && <MessageBar intent="warning"><MessageBarBody>Passwords would cross the network unencrypted before STARTTLS.</MessageBarBody></MessageBar>}
        <Field label="Default domain" hint="A bare user name is completed with it at sign-in (alice → alice@domain)">
          <Input value={a.defaultDomain ?? ''} onChange={(_e, d) => set({ defaultDomain: d.value.trim() || null })} placeholder="example.com" />
        </Field>
      </div>
      <Checkbox label="Challenge-response authentication (CRAM-MD5)" checked={a.cramMd5} onChange={(_e, d) => set({ cramMd5: Boolean(d.checked) })} />
      <Text size={200} className={`${styles.indent} ${styles.muted}`}>The password never crosses the network; only users who turned CRAM-MD5 on can use it; for them Relaydesk stores HMAC-MD5 contexts, which do not reveal the password but can sign in with CRAM-MD5.</Text>
      <Checkbox label="Users may send only as their own addresses" checked={a.restrictSenders} onChange={(_e, d) => set({ restrictSenders: Boolean(d.checked) })} />
      <LockoutFields lockout={a.lockout} onChange={(lockout) => set({ lockout })} />
    </SubDialog>
  );
}

function CommunicationDialog({ access, onDone, onCancel }: { access: AccessSettings; onDone(a: Partial<AccessSettings>): void; onCancel(): void }) {
  const [a, setA] = useState(access);
  const set = (patch: Partial<AccessSettings>) => setA({ ...a, ...patch });
  return (
    <SubDialog title="Security" onOk={() => onDone(a)} onCancel={onCancel}>
      <Checkbox label="Require secure channel" checked={a.requireSecureChannel} onChange={(_e, d) => set({ requireSecureChannel: Boolean(d.checked) })} />
      <Text size={200}>No MAIL, RCPT or AUTH before STARTTLS (clients get 530 5.7.0).</Text>
      <Checkbox label="Require strong encryption (TLS 1.2+, AEAD ciphers of 128 bits or more)" checked={a.requireStrongEncryption} onChange={(_e, d) => set({ requireStrongEncryption: Boolean(d.checked) })} />
      <Checkbox label="Allow legacy TLS 1.0 and 1.1 for old devices" checked={a.allowLegacyTls} disabled={a.requireStrongEncryption} onChange={(_e, d) => set({ allowLegacyTls: Boolean(d.checked) })} />
      {(a.allowLegacyTls || !a.requireStrongEncryption) && (
        <MessageBar intent="warning">
          <MessageBarBody>
            <MessageBarTitle>What it costs</MessageBarTitle>
            {a.allowLegacyTls ? 'TLS 1.0 and 1.1 have known weaknesses and weaker ciphers; every client of this server may be offered them. ' : 'CBC ciphers stay allowed on TLS 1.2. '}
            Better: create a dedicated virtual server for the old scanners, with Connection control set to only their addresses.
          </MessageBarBody>
        </MessageBar>
      )}
    </SubDialog>
  );
}

function CertificateChoiceDialog({ current, fqdn, onDone, onCancel }: { current: string | null; fqdn: string; onDone(name: string | null): void; onCancel(): void }) {
  const certificates = useApiData(() => api['certificates.list']({}), []);
  const [choice, setChoice] = useState<string | null>(current);
  const chosen = certificates.data?.find((c) => c.name === choice);
  const covers = chosen?.altNames.some((n) => n.toLowerCase() === `dns:${fqdn}` || (n.startsWith('DNS:*.') && fqdn.endsWith(n.slice(5))));
  return (
    <SubDialog title="Certificate" onOk={() => onDone(choice)} onCancel={onCancel}>
      <Field label="Certificate used for STARTTLS and the implicit-TLS port">
        <Dropdown value={choice ?? '(none)'} selectedOptions={[choice ?? '']} onOptionSelect={(_e, d) => setChoice(d.optionValue || null)}>
          <Option value="">(none)</Option>
          {certificates.data?.map((c) => <Option key={c.name} value={c.name}>{c.name}</Option>)}
        </Dropdown>
      </Field>
      {chosen && (
        <Text size={200}>
          {chosen.subject} · names {chosen.altNames.join(', ') || '—'} · issued by {chosen.selfSigned ? 'itself (self-signed)' : chosen.issuer} · valid until {new Date(chosen.notAfter).toLocaleDateString()} · SHA-256 {chosen.fingerprintSha256}
        </Text>
      )}
      {chosen && !covers && <MessageBar intent="warning"><MessageBarBody>Its names do not cover {fqdn}; clients that check names will refuse it.</MessageBarBody></MessageBar>}
      <Text size={200}>To create or import a certificate, use the Certificate wizard on the Certificates page.</Text>
    </SubDialog>
  );
}

function SubDialog({ title, children, onOk, onCancel }: { title: string; children: ReactNode; onOk(): void; onCancel(): void }) {
  const styles = useStyles();
  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) onCancel(); }}>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>{title}</DialogTitle>
          <DialogContent className={styles.form}>{children}</DialogContent>
          <DialogActions>
            <Button onClick={onCancel}>Cancel</Button>
            <Button appearance="primary" onClick={onOk}>OK</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

function LimitRow({ label, value, unit, onChange, defaultValue, error }: { label: string; value: number | null; unit?: 'KB'; onChange(v: number | null): void; defaultValue: number; error?: string }) {
  const styles = useStyles();
  const shown = value === null ? '' : unit === 'KB' ? String(Math.round(value / KB)) : String(value);
  return (
    <div className={styles.row}>
      <Checkbox label={label} checked={value !== null} onChange={(_e, d) => onChange(d.checked ? defaultValue : null)} style={{ minWidth: 330 }} />
      {value !== null && (
        <Field validationMessage={error}>
          <Input type="number" aria-label={label} value={shown} contentAfter={unit} style={{ width: 150 }}
            onChange={(_e, d) => onChange(d.value === '' ? 0 : unit === 'KB' ? Number(d.value) * KB : Number(d.value))} />
        </Field>
      )}
    </div>
  );
}

function MessagesTab({ draft, change, fieldError }: { draft: VirtualServerConfig; change(p: Partial<VirtualServerConfig>): void; fieldError: FieldError }) {
  const styles = useStyles();
  const m = draft.messages;
  const set = (patch: Partial<VirtualServerConfig['messages']>) => change({ messages: { ...m, ...patch } });
  return (
    <div className={styles.form}>
      <LimitRow label="Limit message size to" unit="KB" value={m.maxMessageBytes} defaultValue={25 * 1024 * KB} onChange={(v) => set({ maxMessageBytes: v })} error={fieldError('messages.maxMessageBytes')} />
      <LimitRow label="Limit session size to" unit="KB" value={m.maxSessionBytes} defaultValue={100 * 1024 * KB} onChange={(v) => set({ maxSessionBytes: v })} error={fieldError('messages.maxSessionBytes')} />
      <LimitRow label="Limit number of messages per connection to" value={m.maxMessagesPerConnection} defaultValue={100} onChange={(v) => set({ maxMessagesPerConnection: v })} error={fieldError('messages.maxMessagesPerConnection')} />
      <LimitRow label="Limit number of recipients per message to" value={m.maxRecipientsPerMessage} defaultValue={100} onChange={(v) => set({ maxRecipientsPerMessage: v })} error={fieldError('messages.maxRecipientsPerMessage')} />
      <Field label="Send copy of Non-Delivery Report to" validationMessage={fieldError('messages.ndrCopyTo')}>
        <Input value={m.ndrCopyTo ?? ''} onChange={(_e, d) => set({ ndrCopyTo: d.value.trim() || null })} placeholder="postmaster@example.com" />
      </Field>
      <Field label="Badmail directory" hint="A full path (C:\Mail\Badmail, /srv/mail/badmail) for messages that can be neither delivered nor returned; empty = inside the data folder" validationMessage={fieldError('messages.badmailFolder')}>
        <Input value={m.badmailFolder ?? ''} onChange={(_e, d) => set({ badmailFolder: d.value.trim() || null })} />
      </Field>
    </div>
  );
}

function DeliveryTab({ draft, change, changeAccess, fieldError }: { draft: VirtualServerConfig; change(p: Partial<VirtualServerConfig>): void; changeAccess(p: Partial<AccessSettings>): void; fieldError: FieldError }) {
  const styles = useStyles();
  const d = draft.delivery;
  const set = (patch: Partial<VirtualServerConfig['delivery']>) => change({ delivery: { ...d, ...patch } });
  const domains = useApiData(() => api['domains.list']({}), []);
  const [newDomain, setNewDomain] = useState('');
  const [domainError, setDomainError] = useState<string | null>(null);
  const addDomain = async () => {
    try {
      await api['domains.add']({ domain: newDomain, action: 'drop', forwardTo: null });
      setNewDomain('');
      setDomainError(null);
      domains.reload();
    } catch (err) {
      setDomainError(errorMessage(err).replace(/^domain: /, ''));
    }
  };
  return (
    <div className={styles.form}>
      <div className={styles.group}>
        <Text className={styles.groupTitle}>Local (accepted) domains — shared by all virtual servers, saved at once</Text>
        <Text size={200}>{domains.data?.length ? domains.data.map((x) => x.domain).join(', ') : 'No local domains yet: every recipient is relaying.'}</Text>
        <div className={styles.row}>
          <Field label="Add a domain" validationMessage={domainError ?? undefined}><Input value={newDomain} onChange={(_e, v) => setNewDomain(v.value)} placeholder="example.com" /></Field>
          <Button onClick={() => void addDomain()} disabled={!newDomain}>Add</Button>
          {domains.data?.map((x) => <Button key={x.domain} size="small" onClick={() => void api['domains.remove']({ domain: x.domain }).then(domains.reload)}>Remove {x.domain}</Button>)}
        </div>
      </div>
      <Field label="Drop directory for local domains" hint="A full path (C:\Mail\Drop, /srv/mail/drop); one .eml per message; empty = the drop folder inside the data folder" validationMessage={fieldError('delivery.dropFolder')}>
        <Input value={d.dropFolder ?? ''} onChange={(_e, v) => set({ dropFolder: v.value.trim() || null })} />
      </Field>
      <div className={styles.row}>
        <Field label="Maximum hop count" validationMessage={fieldError('delivery.maxHopCount')}><Input type="number" value={String(d.maxHopCount)} onChange={(_e, v) => set({ maxHopCount: Number(v.value) })} style={{ width: 110 }} /></Field>
        <Field label="Masquerade domain" validationMessage={fieldError('delivery.masqueradeDomain')}><Input value={d.masqueradeDomain ?? ''} onChange={(_e, v) => set({ masqueradeDomain: v.value.trim() || null })} /></Field>
      </div>
      <Field label="External DNS servers" hint="Comma separated, e.g. 192.0.2.53, [2001:db8::53]:53; empty = this computer's" validationMessage={fieldError('delivery.dnsServers')}>
        <Input value={d.dnsServers.join(', ')} onChange={(_e, v) => set({ dnsServers: v.value.split(',').map((s) => s.trim()).filter(Boolean) })} />
      </Field>
      <Checkbox label="Perform reverse DNS lookup on incoming messages (name in the Received header)" checked={draft.access.reverseDnsForReceived} onChange={(_e, v) => changeAccess({ reverseDnsForReceived: Boolean(v.checked) })} />
      {draft.access.reverseDnsForReceived && <MessageBar intent="info"><MessageBarBody>{REVERSE_DNS_WARNING}</MessageBarBody></MessageBar>}
      <SmartHostSection draft={draft} set={set} fieldError={fieldError} />
    </div>
  );
}

const PRESETS: Record<string, { label: string; host: string; port: number }> = {
  microsoft365: { label: 'Microsoft 365', host: 'smtp.office365.com', port: 587 },
  'google-relay': { label: 'Google Workspace SMTP relay', host: 'smtp-relay.gmail.com', port: 587 },
  gmail: { label: 'Gmail with an account', host: 'smtp.gmail.com', port: 587 },
  isp: { label: 'Internet provider', host: '', port: 587 },
};

type DeliveryNumber = 'delayNotificationHours' | 'expirationHours' | 'outboundConnections' | 'outboundConnectionsPerDomain' | 'outboundTimeoutSeconds' | 'outboundPort';
/** The Delivery tab's plain number fields, row by row. */
const DELIVERY_NUMBER_ROWS: Array<Array<{ key: DeliveryNumber; label: string; hint?: string }>> = [
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

function SmartHostSection({ draft, set, fieldError }: { draft: VirtualServerConfig; set(p: Partial<VirtualServerConfig['delivery']>): void; fieldError: FieldError }) {
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
              <Dropdown placeholder="Choose…" onOptionSelect={(_e, v) => { const p = PRESETS[v.optionValue ?? '']; if (p) setHost({ host: p.host, port: p.port, security: 'starttls' }); }}>
                {Object.entries(PRESETS).map(([key, p]) => <Option key={key} value={key}>{p.label}</Option>)}
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
function TrustedCertificate({ server, trusted, onTrusted }: { server: string; trusted: string | null; onTrusted(pem: string | null): void }) {
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

const AUTHENTICATION_LABELS = { none: 'None (anonymous)', basic: 'Basic (user name and password)', oauth2: 'OAuth2 (Microsoft 365, Google)' } as const;
const FLOW_LABELS = { browser: 'Browser on this computer (authorization code + PKCE)', device: 'Code entered on any device (device code)', app: 'App-only (client credentials, Microsoft 365)' } as const;

function newOAuth2(smartHostName: string): OAuth2Settings {
  const provider = smartHostName.endsWith('gmail.com') ? 'google' : 'microsoft365';
  return { provider, tenant: 'organizations', clientId: '', clientSecret: null, flow: provider === 'google' ? 'browser' : 'device', authorizationEndpoint: null, tokenEndpoint: null, deviceEndpoint: null, revocationEndpoint: null, scope: null };
}

/** OAuth2 settings of the smart host, and its sign-in: status, Sign in (URL or device code), Sign out. */
function OAuth2Section({ server, user, settings, fieldError, onUser, onChange, onProvider }: {
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

function SignInPanel({ server }: { server: string }) {
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
      (err: unknown) => { if (alive) { setStatus(null); setNotApplied(errorField(err) === 'server'); if (errorField(err) !== 'server') setLoadError(errorMessage(err)); } },
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
