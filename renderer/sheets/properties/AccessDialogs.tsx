// The Access tab's dialogs: Authentication, Communication (TLS) and the certificate choice.
import { Checkbox, Dropdown, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, Option, Text } from '@fluentui/react-components';
import { useState } from 'react';
import { type AccessSettings } from '../../../server/contract/settings';
import { api } from '../../api/client';
import { useApiData } from '../../api/hooks';
import { LockoutFields } from '../LockoutFields';
import { SubDialog, usePropertyStyles as useStyles } from './shared';

export function AuthenticationDialog({ access, onDone, onCancel }: { access: AccessSettings; onDone(a: Partial<AccessSettings>): void; onCancel(): void }) {
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

export function CommunicationDialog({ access, onDone, onCancel }: { access: AccessSettings; onDone(a: Partial<AccessSettings>): void; onCancel(): void }) {
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

export function CertificateChoiceDialog({ current, fqdn, onDone, onCancel }: { current: string | null; fqdn: string; onDone(name: string | null): void; onCancel(): void }) {
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
