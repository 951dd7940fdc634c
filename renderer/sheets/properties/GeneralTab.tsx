// General tab: name, address and port, FQDN, connection limits, logging, greeting.
import { Button, Checkbox, Dropdown, Field, Input, MessageBar, MessageBarBody, Option } from '@fluentui/react-components';
import { useState } from 'react';
import { type VirtualServerConfig } from '../../../server/contract/settings';
import { api, errorMessage } from '../../api/client';
import { useApiData } from '../../api/hooks';
import { type FieldError, numberOrNull, usePropertyStyles as useStyles } from './shared';

export function GeneralTab({ draft, saved, change, fieldError }: { draft: VirtualServerConfig; saved: VirtualServerConfig | null; change(p: Partial<VirtualServerConfig>): void; fieldError: FieldError }) {
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
