// Connection and Relay dialogs: the two radio modes, the list with Add/Remove, and Add with
// Single computer (+ DNS Lookup), Group of computers (subnet + mask or prefix) or Domain.
import {
  Button, Checkbox, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Field, Input, makeStyles,
  MessageBar, MessageBarBody, Radio, RadioGroup, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, tokens,
} from '@fluentui/react-components';
import { AddRegular, DeleteRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import { STACKED_BACKDROP, useNestedDialog } from '../components/ui';
import type { AddressRule, ListMode } from '../../server/contract/settings';
import { api, errorMessage } from '../api/client';

const useStyles = makeStyles({
  list: { maxHeight: '220px', overflowY: 'auto', border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium },
  row: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'flex-end' },
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  hidden: { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', clip: 'rect(0 0 0 0)' },
});

export function describeRule(rule: AddressRule): { kind: string; value: string } {
  switch (rule.kind) {
    case 'address': return { kind: 'Single computer', value: rule.address };
    case 'subnet': return { kind: 'Group of computers', value: `${rule.network}/${rule.prefix}` };
    case 'domain': return { kind: 'Domain', value: rule.domain };
  }
}

export const REVERSE_DNS_WARNING = 'Domain entries need a reverse DNS lookup for every connection. Lookups are cached and time out after 1.5 s, but they cost time and need a working reverse zone for your addresses; a client whose lookup fails is not let through.';

interface Props {
  title: string;
  intro: string;
  mode: ListMode;
  rules: AddressRule[];
  /** Relay only: "Allow all computers which successfully authenticate to relay…". */
  authenticatedRelay?: boolean;
  onDone(result: { mode: ListMode; rules: AddressRule[]; authenticatedRelay?: boolean }): void;
  onCancel(): void;
}

export function AddressListDialog(props: Props) {
  const styles = useStyles();
  const [mode, setMode] = useState<ListMode>(props.mode);
  const [rules, setRules] = useState<AddressRule[]>(props.rules);
  const [authRelay, setAuthRelay] = useState(props.authenticatedRelay);
  const [adding, setAdding] = useNestedDialog<'add'>();
  const hasDomains = rules.some((r) => r.kind === 'domain');
  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) props.onCancel(); }}>
      <DialogSurface backdrop={STACKED_BACKDROP}>
        <DialogBody>
          <DialogTitle>{props.title}</DialogTitle>
          <DialogContent className={styles.stack}>
            <Text>{props.intro}</Text>
            <RadioGroup value={mode} onChange={(_e, d) => setMode(d.value as ListMode)} aria-label="Which computers">
              <Radio value="only-list" label="Only the list below" />
              <Radio value="all-except" label="All except the list below" />
            </RadioGroup>
            <div className={styles.list}>
              <Table size="small" aria-label="Computers">
                <TableHeader><TableRow><TableHeaderCell>Computers</TableHeaderCell><TableHeaderCell>Type</TableHeaderCell><TableHeaderCell><span className={styles.hidden}>Actions</span></TableHeaderCell></TableRow></TableHeader>
                <TableBody>
                  {rules.length === 0 && <TableRow><TableCell colSpan={3}><Text italic>The list is empty.</Text></TableCell></TableRow>}
                  {rules.map((rule, i) => {
                    const d = describeRule(rule);
                    return (
                      <TableRow key={`${d.value}-${i}`}>
                        <TableCell>{d.value}</TableCell>
                        <TableCell>{d.kind}</TableCell>
                        <TableCell><Button size="small" appearance="subtle" icon={<DeleteRegular />} aria-label={`Remove ${d.value}`} onClick={() => setRules(rules.filter((_r, j) => j !== i))}>Remove</Button></TableCell>
                      </TableRow>
                    );
                  })}
                </TableBody>
              </Table>
            </div>
            <div className={styles.row}>
              <Button icon={<AddRegular />} onClick={() => setAdding('add')}>Add…</Button>
            </div>
            {hasDomains && <MessageBar intent="warning"><MessageBarBody>{REVERSE_DNS_WARNING}</MessageBarBody></MessageBar>}
            {authRelay !== undefined && (
              <Checkbox checked={authRelay} onChange={(_e, d) => setAuthRelay(Boolean(d.checked))}
                label="Allow all computers which successfully authenticate to relay, regardless of the list above" />
            )}
          </DialogContent>
          <DialogActions>
            <Button onClick={props.onCancel}>Cancel</Button>
            <Button appearance="primary" onClick={() => props.onDone({ mode, rules, authenticatedRelay: authRelay })}>OK</Button>
          </DialogActions>
        </DialogBody>
        {/* Nested dialogs live inside the parent surface, so the parent is restored when they close. */}
        {adding && <AddEntryDialog onAdd={(rule) => { setRules([...rules, rule]); setAdding(null); }} onCancel={() => setAdding(null)} />}
      </DialogSurface>
    </Dialog>
  );
}

type Kind = 'address' | 'subnet' | 'domain';

function AddEntryDialog({ onAdd, onCancel }: { onAdd(rule: AddressRule): void; onCancel(): void }) {
  const styles = useStyles();
  const [kind, setKind] = useState<Kind>('address');
  const [address, setAddress] = useState('');
  const [network, setNetwork] = useState('');
  const [mask, setMask] = useState('255.255.255.0');
  const [domain, setDomain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [lookup, setLookup] = useState<string | null>(null);

  const text = kind === 'address' ? address : kind === 'subnet' ? `${network}/${mask}` : domain;
  /** The admin's words about the box they typed in, never an internal field path. */
  const label = kind === 'address' ? 'IP address' : kind === 'subnet' ? 'Subnet address and mask' : 'Domain';
  const add = async () => {
    const missing = kind === 'address' && !address.trim() ? 'IP address: enter the computer\'s address, such as 192.168.1.20'
      : kind === 'subnet' && !network.trim() ? 'Subnet address: enter the network\'s address, such as 192.168.1.0'
        : kind === 'subnet' && !mask.trim() ? 'Subnet mask: enter a mask such as 255.255.255.0, or a prefix length such as 24'
          : kind === 'domain' && !domain.trim() ? 'Domain: enter a domain such as office.example' : null;
    if (missing) return setError(missing);
    try {
      onAdd(await api['servers.validateRule']({ text }));
    } catch (err) {
      setError(`${label}: ${errorMessage(err).replace(/^text(\.\w+)*: /, '')}`);
    }
  };
  const dnsLookup = async () => {
    setLookup(null);
    try {
      const addresses = await api['dns.lookup']({ hostname: address });
      setAddress(addresses[0] ?? address);
      setLookup(`${address} → ${addresses.join(', ')}`);
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) onCancel(); }}>
      <DialogSurface backdrop={STACKED_BACKDROP}>
        <DialogBody>
          <DialogTitle>Add computer</DialogTitle>
          <DialogContent className={styles.stack}>
            <RadioGroup value={kind} onChange={(_e, d) => { setKind(d.value as Kind); setError(null); }} aria-label="Entry type">
              <Radio value="address" label="Single computer" />
              <Radio value="subnet" label="Group of computers" />
              <Radio value="domain" label="Domain" />
            </RadioGroup>
            {kind === 'address' && (
              <div className={styles.row}>
                <Field label="IP address (IPv4 or IPv6), or a host name to look up" validationMessage={error ?? undefined} style={{ flexGrow: 1 }}>
                  <Input value={address} onChange={(_e, d) => setAddress(d.value)} placeholder="192.168.1.20" />
                </Field>
                <Button onClick={() => void dnsLookup()} disabled={!address}>DNS Lookup…</Button>
              </div>
            )}
            {kind === 'address' && lookup && <Text size={200}>{lookup}</Text>}
            {kind === 'subnet' && (
              <>
                <Field label="Subnet address" validationMessage={error ?? undefined}><Input value={network} onChange={(_e, d) => setNetwork(d.value)} placeholder="192.168.1.0" /></Field>
                <Field label="Subnet mask or prefix length" hint="255.255.255.0, or 24; for IPv6 a prefix such as 64"><Input value={mask} onChange={(_e, d) => setMask(d.value)} /></Field>
              </>
            )}
            {kind === 'domain' && (
              <>
                <Field label="Domain name" hint="Matches the computer's reverse DNS name, and sub-domains" validationMessage={error ?? undefined}>
                  <Input value={domain} onChange={(_e, d) => setDomain(d.value)} placeholder="office.example.com" />
                </Field>
                <MessageBar intent="warning"><MessageBarBody>{REVERSE_DNS_WARNING}</MessageBarBody></MessageBar>
              </>
            )}
          </DialogContent>
          <DialogActions>
            <Button onClick={onCancel}>Cancel</Button>
            <Button appearance="primary" onClick={() => void add()} disabled={!text || text === '/'}>OK</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
