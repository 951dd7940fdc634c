// Routes on the Delivery tab: mail chosen by sender, user, trusted device or recipient domain
// leaves through its own transport (MX, an SMTP smart host, Microsoft Graph), in order, with an
// optional failover and "send as the route's mailbox". Edited in the draft; Apply saves them.
import { Button, Checkbox, Dropdown, Field, Input, MessageBar, MessageBarBody, Option, Text } from '@fluentui/react-components';
import { useState } from 'react';
import { type DeliveryRoute, signInKey, type SmartHost, type VirtualServerConfig } from '../../../server/contract/settings';
import { useNestedDialog } from '../../components/ui';
import { type FieldError, SubDialog, usePropertyStyles as useStyles } from './shared';
import { GraphSettings, NEW_SMART_HOST, toGraph, withGraphScope } from './SmartHostSection';

const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

function transportOf(host: SmartHost | null): string {
  if (!host) return 'directly by MX';
  if (host.transport === 'graph') return `Microsoft Graph as ${host.user ?? '?'}`;
  return `smart host ${host.host || '?'}:${host.port}${host.authentication === 'none' ? '' : ` as ${host.user ?? '?'}`}`;
}

function matchOf(route: DeliveryRoute): string {
  const m = route.match;
  return [
    m.senders.length ? `senders ${m.senders.join(', ')}` : '', m.users.length ? `users ${m.users.join(', ')}` : '',
    m.devices.length ? `devices ${m.devices.join(', ')}` : '', m.recipientDomains.length ? `to ${m.recipientDomains.join(', ')}` : '',
  ].filter(Boolean).join('; ') || 'all mail';
}

export function RoutesSection({ draft, set, fieldError }: { draft: VirtualServerConfig; set(p: Partial<VirtualServerConfig['delivery']>): void; fieldError: FieldError }) {
  const styles = useStyles();
  const routes = draft.delivery.routes;
  const [editing, setEditing] = useNestedDialog<string>();
  const save = (next: DeliveryRoute[]) => set({ routes: next });
  const move = (i: number, by: number) => {
    const next = [...routes];
    const [moved] = next.splice(i, 1);
    next.splice(i + by, 0, moved as DeliveryRoute);
    save(next);
  };
  const error = fieldError('delivery.routes');
  return (
    <div className={styles.group}>
      <Text className={styles.groupTitle}>Routes (tried in order; mail no route takes goes to the smart host above, or directly by MX)</Text>
      {routes.length === 0 && <Text size={200}>No routes: all mail for other domains goes the same way.</Text>}
      {routes.map((route, i) => (
        <div key={route.name} className={styles.accessRow}>
          <Text size={200}>
            <b>{i + 1}. {route.name}</b>: {matchOf(route)} → {transportOf(route.smartHost)}
            {route.failover ? `; on ${route.failover.on.join(', ')} fail over to ${route.failover.route}` : ''}{route.sendAsMailbox ? '; sends as its mailbox' : ''}
          </Text>
          <div className={styles.row}>
            <Button size="small" onClick={() => setEditing(route.name)}>Edit…</Button>
            <Button size="small" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move ${route.name} up`}>Up</Button>
            <Button size="small" disabled={i === routes.length - 1} onClick={() => move(i, 1)} aria-label={`Move ${route.name} down`}>Down</Button>
            <Button size="small" onClick={() => save(routes.filter((r) => r !== route))} aria-label={`Remove ${route.name}`}>Remove</Button>
          </div>
        </div>
      ))}
      {error && <MessageBar intent="error"><MessageBarBody>A route cannot be saved: {error}</MessageBarBody></MessageBar>}
      <div className={styles.row}><Button onClick={() => setEditing('')}>Add route…</Button></div>
      {editing !== null && (
        <RouteDialog server={draft.name} route={routes.find((r) => r.name === editing) ?? null} others={routes.filter((r) => r.name !== editing).map((r) => r.name)}
          hasSmartHost={draft.delivery.smartHost !== null} fieldError={fieldError}
          onCancel={() => setEditing(null)}
          onOk={(route) => {
            save(editing === '' ? [...routes, route] : routes.map((r) => (r.name === editing ? route : r)));
            setEditing(null);
          }} />
      )}
    </div>
  );
}

function RouteDialog({ server, route, others, hasSmartHost, fieldError, onOk, onCancel }: {
  server: string; route: DeliveryRoute | null; others: string[]; hasSmartHost: boolean; fieldError: FieldError; onOk(route: DeliveryRoute): void; onCancel(): void;
}) {
  const styles = useStyles();
  const [name, setName] = useState(route?.name ?? '');
  const [senders, setSenders] = useState(route?.match.senders.join(', ') ?? '');
  const [users, setUsers] = useState(route?.match.users.join(', ') ?? '');
  const [devices, setDevices] = useState(route?.match.devices.join(', ') ?? '');
  const [domains, setDomains] = useState(route?.match.recipientDomains.join(', ') ?? '');
  const [host, setHost] = useState<SmartHost | null>(route?.smartHost ?? null);
  const [failoverTo, setFailoverTo] = useState(route?.failover?.route ?? '');
  const [failoverOn, setFailoverOn] = useState(route?.failover?.on.join(', ') ?? '5.7.139');
  const [sendAs, setSendAs] = useState(route?.sendAsMailbox ?? false);
  const [problem, setProblem] = useState<string | null>(null);
  const kind = !host ? 'mx' : host.transport === 'graph' ? 'graph' : 'smtp';
  const targets = [...(hasSmartHost ? ['default'] : []), ...others];
  const ok = () => {
    if (!name.trim()) return setProblem('give the route a name');
    if (others.some((o) => o.toLowerCase() === name.trim().toLowerCase())) return setProblem(`a route named "${name.trim()}" is already in the list`);
    onOk({
      name: name.trim(), match: { senders: list(senders), users: list(users), devices: list(devices), recipientDomains: list(domains) }, smartHost: host,
      failover: failoverTo ? { route: failoverTo, on: list(failoverOn) } : null, sendAsMailbox: sendAs && Boolean(host?.user),
    });
  };
  return (
    <SubDialog title={route ? `Route ${route.name}` : 'New route'} onOk={ok} onCancel={onCancel}>
      <Field label="Name" validationMessage={problem ?? undefined}><Input value={name} onChange={(_e, v) => setName(v.value)} /></Field>
      <Text size={200}>Mail matches when every list you fill in matches (comma separated; an empty list matches anything).</Text>
      <div className={styles.row}>
        <Field label="Senders (address or @domain)"><Input value={senders} onChange={(_e, v) => setSenders(v.value)} placeholder="@accounts.example.com" /></Field>
        <Field label="Users who signed in"><Input value={users} onChange={(_e, v) => setUsers(v.value)} /></Field>
      </div>
      <div className={styles.row}>
        <Field label="Trusted devices"><Input value={devices} onChange={(_e, v) => setDevices(v.value)} placeholder="Reception printer" /></Field>
        <Field label="Recipient domains"><Input value={domains} onChange={(_e, v) => setDomains(v.value)} placeholder="contoso.com" /></Field>
      </div>
      <Field label="Transport">
        <Dropdown value={{ mx: 'Directly by MX', smtp: 'SMTP smart host (password or none)', graph: 'Microsoft Graph sendMail' }[kind]} selectedOptions={[kind]}
          onOptionSelect={(_e, v) => setHost(v.optionValue === 'graph' ? toGraph(host ?? NEW_SMART_HOST) : v.optionValue === 'smtp' ? { ...NEW_SMART_HOST } : null)}>
          <Option value="mx">Directly by MX</Option><Option value="smtp">SMTP smart host (password or none)</Option><Option value="graph">Microsoft Graph sendMail</Option>
        </Dropdown>
      </Field>
      {host?.transport === 'graph' && <GraphSettings host={host} setHost={(patch) => setHost(withGraphScope({ ...host, ...patch }))} fieldError={fieldError} server={signInKey(server, name.trim() || '?')} />}
      {host?.transport === 'smtp' && (
        <div className={styles.row}>
          <Field label="Smart host"><Input value={host.host} onChange={(_e, v) => setHost({ ...host, host: v.value })} /></Field>
          <Field label="Port"><Input type="number" value={String(host.port)} style={{ width: 90 }} onChange={(_e, v) => setHost({ ...host, port: Number(v.value) })} /></Field>
          <Field label="Account (empty: no sign-in)"><Input value={host.user ?? ''} onChange={(_e, v) => setHost({ ...host, user: v.value || null, authentication: v.value ? 'basic' : 'none' })} /></Field>
          {host.user && <Field label="Password" hint={host.password === null ? 'stored, or not set' : undefined}><Input type="password" value={host.password ?? ''} onChange={(_e, v) => setHost({ ...host, password: v.value || null })} /></Field>}
        </div>
      )}
      <div className={styles.row}>
        <Field label="When it answers one of these codes">
          <Input value={failoverOn} onChange={(_e, v) => setFailoverOn(v.value)} placeholder="5.7.139, 4.7.500" />
        </Field>
        <Field label="fail over at once to">
          <Dropdown value={failoverTo || 'No failover'} selectedOptions={[failoverTo]} onOptionSelect={(_e, v) => setFailoverTo(v.optionValue ?? '')}>
            <Option value="">No failover</Option>
            {targets.map((t) => <Option key={t} value={t}>{t === 'default' ? 'default (the smart host)' : t}</Option>)}
          </Dropdown>
        </Field>
      </div>
      {host?.user && <Checkbox label={`Send as the route's mailbox (${host.user}): From becomes the mailbox, the sender's address becomes Reply-To`} checked={sendAs} onChange={(_e, v) => setSendAs(Boolean(v.checked))} />}
    </SubDialog>
  );
}
