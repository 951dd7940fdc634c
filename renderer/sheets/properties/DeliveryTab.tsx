// Delivery tab: retries, expiry, outbound connections, DNS, and the smart host section.
import { Button, Checkbox, Field, Input, MessageBar, MessageBarBody, Tag, TagGroup, Text } from '@fluentui/react-components';
import { useState } from 'react';
import { type AccessSettings, type VirtualServerConfig } from '../../../server/contract/settings';
import { api, errorMessage } from '../../api/client';
import { useApiData } from '../../api/hooks';
import { REVERSE_DNS_WARNING } from '../AddressListDialog';
import { type FieldError, usePropertyStyles as useStyles } from './shared';
import { SmartHostSection } from './SmartHostSection';
import { RoutesSection } from './RoutesSection';

export function DeliveryTab({ draft, change, changeAccess, fieldError }: { draft: VirtualServerConfig; change(p: Partial<VirtualServerConfig>): void; changeAccess(p: Partial<AccessSettings>): void; fieldError: FieldError }) {
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
        {domains.data?.length ? (
          <TagGroup aria-label="Local domains" onDismiss={(_e, d) => void api['domains.remove']({ domain: String(d.value) }).then(domains.reload)}>
            {domains.data.map((x) => <Tag key={x.domain} value={x.domain} dismissible dismissIcon={{ 'aria-label': `Remove ${x.domain}` }}>{x.domain}</Tag>)}
          </TagGroup>
        ) : <Text size={200}>No local domains yet: every recipient is relaying.</Text>}
        <div className={styles.row}>
          <Field label="Add a domain" validationMessage={domainError ?? undefined}><Input value={newDomain} onChange={(_e, v) => setNewDomain(v.value)} placeholder="example.com" /></Field>
          <Button onClick={() => void addDomain()} disabled={!newDomain}>Add</Button>
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
      <RoutesSection draft={draft} set={set} fieldError={fieldError} />
    </div>
  );
}
