// Access → Trusted devices…: scanners, printers and applications that cannot sign in. Each is
// named, found by its address or subnet, pinned to the senders it may use, optionally limited
// to recipient domains and messages per hour, and needs TLS unless told otherwise (with a warning).
import {
  Button, Checkbox, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Field, Input, makeStyles,
  MessageBar, MessageBarBody, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, tokens,
} from '@fluentui/react-components';
import { AddRegular, DeleteRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import { STACKED_BACKDROP } from '../components/ui';
import { type AddressRule, type TrustedDevice, trustedDeviceSchema } from '../../server/contract/settings';
import { api, errorMessage } from '../api/client';
import { describeRule } from './AddressListDialog';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  list: { maxHeight: '240px', overflowY: 'auto', border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium },
  row: { display: 'flex', gap: tokens.spacingHorizontalM, flexWrap: 'wrap', alignItems: 'flex-end' },
  hidden: { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', clip: 'rect(0 0 0 0)' },
  cell: { overflowWrap: 'anywhere' },
});

const FIELD_LABELS: Record<string, string> = { name: 'Name', match: 'Address or subnet', senders: 'Allowed senders', recipientDomains: 'Recipient domains', perHour: 'Messages per hour' };

const splitList = (text: string): string[] => text.split(/[\s,;]+/).map((t) => t.trim()).filter(Boolean);

export function TrustedDevicesDialog({ devices, onDone, onCancel }: { devices: TrustedDevice[]; onDone(devices: TrustedDevice[]): void; onCancel(): void }) {
  const styles = useStyles();
  const [list, setList] = useState<TrustedDevice[]>(devices);
  const [adding, setAdding] = useState(false);
  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) onCancel(); }}>
      <DialogSurface backdrop={STACKED_BACKDROP} style={{ maxWidth: 760 }}>
        <DialogBody>
          <DialogTitle>Trusted devices</DialogTitle>
          <DialogContent className={styles.stack}>
            <Text>Devices listed here (scanners, printers, applications that cannot sign in) may send through this virtual server without a user name and password, and may relay. Everyone else still signs in.</Text>
            <div className={styles.list}>
              <Table size="small" aria-label="Trusted devices">
                <TableHeader><TableRow>
                  <TableHeaderCell>Device</TableHeaderCell><TableHeaderCell>Address</TableHeaderCell><TableHeaderCell>Senders</TableHeaderCell><TableHeaderCell>Limits</TableHeaderCell>
                  <TableHeaderCell><span className={styles.hidden}>Actions</span></TableHeaderCell>
                </TableRow></TableHeader>
                <TableBody>
                  {list.length === 0 && <TableRow><TableCell colSpan={5}><Text italic>No trusted devices: every client must sign in.</Text></TableCell></TableRow>}
                  {list.map((d) => (
                    <TableRow key={d.name}>
                      <TableCell className={styles.cell}>{d.name}</TableCell>
                      <TableCell className={styles.cell}>{describeRule(d.match).value}</TableCell>
                      <TableCell className={styles.cell}>{d.senders.join(', ') || <Text weight="semibold">any sender</Text>}</TableCell>
                      <TableCell className={styles.cell}>{[d.recipientDomains.length ? `to ${d.recipientDomains.join(', ')}` : null, d.perHour !== null ? `${d.perHour}/hour` : null, d.allowWithoutTls ? 'without TLS' : null].filter(Boolean).join('; ') || '—'}</TableCell>
                      <TableCell><Button size="small" icon={<DeleteRegular />} aria-label={`Remove ${d.name}`} onClick={() => setList(list.filter((x) => x !== d))}>Remove</Button></TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </div>
            {adding ? <AddDevice existing={list} onAdd={(d) => { setList([...list, d]); setAdding(false); }} onCancel={() => setAdding(false)} /> : (
              <div><Button icon={<AddRegular />} onClick={() => setAdding(true)}>Add…</Button></div>
            )}
          </DialogContent>
          <DialogActions>
            <Button appearance="primary" onClick={() => onDone(list)}>OK</Button>
            <Button onClick={onCancel}>Cancel</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

function AddDevice({ existing, onAdd, onCancel }: { existing: TrustedDevice[]; onAdd(d: TrustedDevice): void; onCancel(): void }) {
  const styles = useStyles();
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [senders, setSenders] = useState('');
  const [domains, setDomains] = useState('');
  const [perHour, setPerHour] = useState('');
  const [withoutTls, setWithoutTls] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const add = async () => {
    const found: Record<string, string> = {};
    let match: AddressRule | null = null;
    try {
      match = await api['servers.validateRule']({ text: address });
      if (match.kind === 'domain') found.match = 'give an address (192.0.2.20) or a subnet (192.0.2.0/24); devices are not found by name';
    } catch (err) {
      found.match = address.trim() ? errorMessage(err).replace(/^text(\.\w+)*: /, '') : 'give the device\'s address or subnet';
    }
    const parsed = trustedDeviceSchema.safeParse({
      name, match: match ?? { kind: 'address', address: '0.0.0.0' }, senders: splitList(senders), recipientDomains: splitList(domains),
      perHour: perHour.trim() ? Number(perHour) : null, allowWithoutTls: withoutTls,
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? 'name');
        if (field !== 'match') found[field] ??= `${FIELD_LABELS[field] ?? field}${issue.path.length > 1 ? ` (${String(issue.path[1] ?? '')})` : ''}: ${issue.message}`;
      }
    }
    if (existing.some((d) => d.name.toLowerCase() === name.trim().toLowerCase())) found.name = `a device named "${name.trim()}" is already in the list`;
    setErrors(found);
    if (Object.keys(found).length === 0 && parsed.success) onAdd(parsed.data);
  };
  return (
    <fieldset className={styles.stack} style={{ border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium, padding: tokens.spacingHorizontalM }}>
      <legend><Text weight="semibold">Add a trusted device</Text></legend>
      <div className={styles.row}>
        <Field label="Name" validationMessage={errors.name} style={{ minWidth: 220 }}><Input value={name} placeholder="Reception printer" onChange={(_e, d) => setName(d.value)} /></Field>
        <Field label="Address or subnet" validationMessage={errors.match} hint="192.0.2.20, 192.0.2.0/24 or 2001:db8::/64" style={{ minWidth: 240 }}>
          <Input value={address} onChange={(_e, d) => setAddress(d.value)} />
        </Field>
      </div>
      <Field label="Allowed senders" validationMessage={errors.senders} hint="Addresses or @domain, separated by commas; any other MAIL FROM is refused naming the device. Empty = any sender.">
        <Input value={senders} placeholder="scanner@example.com" onChange={(_e, d) => setSenders(d.value)} />
      </Field>
      <div className={styles.row}>
        <Field label="Recipient domains (optional)" validationMessage={errors.recipientDomains} hint="Empty = any domain" style={{ minWidth: 280 }}>
          <Input value={domains} placeholder="example.com" onChange={(_e, d) => setDomains(d.value)} />
        </Field>
        <Field label="Messages per hour (optional)" validationMessage={errors.perHour} style={{ minWidth: 200 }}>
          <Input type="number" min={1} value={perHour} onChange={(_e, d) => setPerHour(d.value)} />
        </Field>
      </div>
      <Checkbox label="May send without TLS" checked={withoutTls} onChange={(_e, d) => setWithoutTls(Boolean(d.checked))} />
      {withoutTls && (
        <MessageBar intent="warning"><MessageBarBody>
          This device's mail, and any password it sends, will cross the network in clear. Use it only for a device that cannot do TLS at all, on a network you trust.
        </MessageBarBody></MessageBar>
      )}
      {splitList(senders).length === 0 && name && <MessageBar intent="info"><MessageBarBody>Without allowed senders the device may send as anyone; pin it to the address it uses.</MessageBarBody></MessageBar>}
      <div className={styles.row}>
        <Button appearance="primary" onClick={() => void add()}>Add device</Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </fieldset>
  );
}
