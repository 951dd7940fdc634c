// Users: the accounts clients sign in with. Add (password twice, strength hint), disable, reset the
// password, allowed sender addresses, CRAM-MD5 opt-in with its warning, remove.
import {
  Badge, Button, Checkbox, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Field, Input, makeStyles,
  MessageBar, MessageBarBody, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, tokens,
} from '@fluentui/react-components';
import { AddRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import type { UserSummary } from '../../server/contract/admin-api';
import { api, errorField, errorMessage } from '../api/client';
import { useAction, useApiData } from '../api/hooks';
import { ConfirmDialog, ErrorBar, Loading, PageHeader, useUiStyles } from '../components/ui';

const useStyles = makeStyles({ form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS }, actions: { display: 'flex', gap: tokens.spacingHorizontalXS, flexWrap: 'wrap' } });

/** A plain hint, not a gate: length matters most. */
export function passwordStrength(password: string): { label: string; color: 'danger' | 'warning' | 'success' } {
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^\w]/].filter((r) => r.test(password)).length;
  if (password.length < 8) return { label: 'Too short (at least 8)', color: 'danger' };
  if (password.length >= 16 || (password.length >= 12 && classes >= 3)) return { label: 'Strong', color: 'success' };
  return { label: 'Acceptable; longer is better', color: 'warning' };
}

export function UsersPage() {
  const ui = useUiStyles();
  const styles = useStyles();
  const users = useApiData(() => api['users.list']({}), []);
  const [editing, setEditing] = useState<UserSummary | 'new' | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const { error, run: act } = useAction(users.reload);
  return (
    <div className={ui.page}>
      <PageHeader title="Users" description="The accounts PCs, phones, scanners and applications sign in with. Passwords are stored as salted scrypt hashes.">
        <Button appearance="primary" icon={<AddRegular />} onClick={() => setEditing('new')}>Add user…</Button>
      </PageHeader>
      <ErrorBar error={users.error ?? error} />
      {users.loading && !users.data && <Loading />}
      {users.data && (
        <div className={ui.tableWrap}>
          <Table aria-label="Users">
            <TableHeader><TableRow><TableHeaderCell>Name</TableHeaderCell><TableHeaderCell>State</TableHeaderCell><TableHeaderCell>May send as</TableHeaderCell><TableHeaderCell>CRAM-MD5</TableHeaderCell><TableHeaderCell>Actions</TableHeaderCell></TableRow></TableHeader>
            <TableBody>
              {users.data.length === 0 && <TableRow><TableCell colSpan={5}>No users yet.</TableCell></TableRow>}
              {users.data.map((u) => (
                <TableRow key={u.name}>
                  <TableCell>{u.name}</TableCell>
                  <TableCell><Badge appearance="tint" color={u.enabled ? 'success' : 'subtle'}>{u.enabled ? 'Enabled' : 'Disabled'}</Badge></TableCell>
                  <TableCell>{u.senders.length ? u.senders.join(', ') : <Text italic>own address only when senders are restricted</Text>}</TableCell>
                  <TableCell>{u.cramMd5 ? 'On' : 'Off'}</TableCell>
                  <TableCell>
                    <div className={styles.actions}>
                      <Button size="small" onClick={() => setEditing(u)}>Edit…</Button>
                      <Button size="small" onClick={() => void act(() => api['users.update']({ name: u.name, enabled: !u.enabled }))}>{u.enabled ? 'Disable' : 'Enable'}</Button>
                      <Button size="small" onClick={() => setRemoving(u.name)}>Remove</Button>
                    </div>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
      {editing && <UserDialog user={editing === 'new' ? null : editing} onClose={() => { setEditing(null); users.reload(); }} />}
      <ConfirmDialog open={removing !== null} title={`Remove ${removing ?? ''}?`} confirmLabel="Remove" danger onCancel={() => setRemoving(null)}
        onConfirm={() => { const name = removing as string; setRemoving(null); void act(() => api['users.remove']({ name })); }}>
        Clients signing in as this user will be refused from now on.
      </ConfirmDialog>
    </div>
  );
}

function UserDialog({ user, onClose }: { user: UserSummary | null; onClose(): void }) {
  const styles = useStyles();
  const [name, setName] = useState(user?.name ?? '');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [senders, setSenders] = useState(user?.senders.join(', ') ?? '');
  const [cram, setCram] = useState(user?.cramMd5 ?? false);
  const [perHour, setPerHour] = useState(user?.perHour ? String(user.perHour) : '');
  const [perDay, setPerDay] = useState(user?.recipientsPerDay ? String(user.recipientsPerDay) : '');
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const strength = passwordStrength(password);
  const fieldMessage = (field: string) => (error?.field?.startsWith(field) ? error.message.replace(/^[\w.[\]]+: /, '') : undefined);

  const save = async () => {
    if (password !== confirm) return setError({ message: 'The two passwords differ', field: 'confirm' });
    const list = senders.split(',').map((s) => s.trim()).filter(Boolean);
    const limits = { perHour: perHour.trim() ? Number(perHour) : null, recipientsPerDay: perDay.trim() ? Number(perDay) : null };
    try {
      if (user) await api['users.update']({ name: user.name, senders: list, cramMd5: cram, ...limits, ...(password ? { password } : {}) });
      else {
        await api['users.add']({ name, password, senders: list, cramMd5: cram });
        if (limits.perHour !== null || limits.recipientsPerDay !== null) await api['users.update']({ name, ...limits });
      }
      onClose();
    } catch (err) {
      setError({ message: errorMessage(err), field: errorField(err) });
    }
  };
  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) onClose(); }}>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>{user ? `Edit ${user.name}` : 'Add user'}</DialogTitle>
          <DialogContent className={styles.form}>
            {!user && <Field label="User name" hint="Usually the address, e.g. scanner@example.com" validationMessage={fieldMessage('name')}><Input value={name} onChange={(_e, d) => setName(d.value)} /></Field>}
            <Field label={user ? 'New password (leave empty to keep)' : 'Password'} validationMessage={fieldMessage('password')} hint={password ? `Strength: ${strength.label}` : 'At least 8 characters; a passphrase is best'}>
              <Input type="password" value={password} onChange={(_e, d) => setPassword(d.value)} />
            </Field>
            <Field label="Confirm password" validationMessage={fieldMessage('confirm')}><Input type="password" value={confirm} onChange={(_e, d) => setConfirm(d.value)} /></Field>
            <Field label="May send as (when senders are restricted)" hint="Comma separated addresses, or @example.com for a whole domain" validationMessage={fieldMessage('senders')}>
              <Input value={senders} onChange={(_e, d) => setSenders(d.value)} />
            </Field>
            <div style={{ display: 'flex', gap: 12, flexWrap: 'wrap' }}>
              <Field label="Messages per hour (optional)" validationMessage={fieldMessage('perHour')} hint="Over it: 452, try later">
                <Input type="number" min={1} value={perHour} onChange={(_e, d) => setPerHour(d.value)} style={{ width: 140 }} />
              </Field>
              <Field label="Recipients per day (optional)" validationMessage={fieldMessage('recipientsPerDay')} hint="Microsoft 365 locks a mailbox past 10,000">
                <Input type="number" min={1} value={perDay} onChange={(_e, d) => setPerDay(d.value)} style={{ width: 140 }} />
              </Field>
            </div>
            <Checkbox checked={cram} onChange={(_e, d) => setCram(Boolean(d.checked))} label="Allow CRAM-MD5 (challenge-response) for this user" />
            {cram && <MessageBar intent="warning"><MessageBarBody>CRAM-MD5 keeps the password off the wire, but Relaydesk must then store HMAC-MD5 contexts of it: they do not reveal the password, yet anyone who steals them can sign in as this user with CRAM-MD5. Use it only for devices that cannot do TLS.{user && !user.cramMd5 ? ' Enter the password above to turn it on.' : ''}</MessageBarBody></MessageBar>}
            {error && !error.field && <MessageBar intent="error"><MessageBarBody>{error.message}</MessageBarBody></MessageBar>}
          </DialogContent>
          <DialogActions>
            <Button onClick={onClose}>Cancel</Button>
            <Button appearance="primary" onClick={() => void save()} disabled={!user && (!name || !password)}>{user ? 'Save' : 'Add'}</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
