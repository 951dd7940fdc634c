// Access tab: the rows of IIS's Access tab, each opening its dialog.
import { Button, Text } from '@fluentui/react-components';
import { type ReactNode } from 'react';
import { type AddressRule, type VirtualServerConfig } from '../../../server/contract/settings';
import { usePropertyStyles as useStyles } from './shared';

export type Editing = null | 'authentication' | 'certificate' | 'communication' | 'connection' | 'relay' | 'devices';

export function AccessRow({ title, rows }: { title: string; rows: Array<{ summary: ReactNode; button: string; onClick(): void }> }) {
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

export function AccessTab({ draft, open }: { draft: VirtualServerConfig; open(e: Editing): void }) {
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
