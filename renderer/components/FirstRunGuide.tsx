// First run: names the secure defaults, asks for the first user, and shows what to type into a
// mail client or scanner. Shown in full while no user exists; after that it is one line,
// "Getting started", that opens the same panel again.
import { Button, Field, Input, Link, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, Text, tokens } from '@fluentui/react-components';
import { useState } from 'react';
import { api, errorField, errorMessage } from '../api/client';
import { useApiData } from '../api/hooks';
import { useServers } from '../api/servers';

const useStyles = makeStyles({
  guide: { margin: `${tokens.spacingVerticalL} ${tokens.spacingHorizontalXL} 0`, padding: tokens.spacingHorizontalL, borderRadius: tokens.borderRadiusLarge, border: `1px solid ${tokens.colorBrandStroke2}`, backgroundColor: tokens.colorBrandBackground2, display: 'grid', gridTemplateColumns: 'minmax(260px, 1fr) minmax(260px, 1fr)', gap: tokens.spacingHorizontalXL },
  list: { margin: 0, paddingLeft: '1.2em', display: 'flex', flexDirection: 'column', gap: '4px' },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  compact: { margin: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXL} 0`, fontSize: tokens.fontSizeBase200, color: tokens.colorNeutralForeground3 },
  // The labels never break inside a word ("Authentication" stays whole); the values wrap.
  table: { borderCollapse: 'collapse', '& td': { padding: '2px 12px 2px 0', verticalAlign: 'top' }, '& td:first-child': { whiteSpace: 'nowrap' } },
});

export function FirstRunGuide() {
  const styles = useStyles();
  // Followed, not read once: a user added on the Users page (or with the CLI) ends the guide.
  const users = useApiData(() => api['users.list']({}), [], 5000);
  const addresses = useApiData(() => api['system.addresses']({}), []);
  const { servers } = useServers();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [reopened, setReopened] = useState(false);
  if (!users.data) return null;
  const hasUsers = users.data.length > 0;
  if (hasUsers && !done && !reopened) {
    return (
      <div className={styles.compact}>
        <Link as="button" onClick={() => setReopened(true)}>Getting started</Link>: what this server does now and what to type into a mail client or scanner.
      </div>
    );
  }
  const server = servers?.[0];
  const listener = server?.listening.find((l) => l.mode === 'starttls');
  const failure = server?.bindFailures[0];
  // What clients should use: the bound address, or on "all addresses" this machine's LAN addresses.
  const lan = (addresses.data ?? []).filter((a) => !a.internal && a.family === 'IPv4').map((a) => a.address);
  const host = !server ? '127.0.0.1' : server.config.bindAddress !== 'all' ? server.config.bindAddress : lan.length ? lan.join(' or ') : 'this computer\'s address';
  const a = server?.config.access;
  const relayRules = server?.config.relayRules.length ?? 0;

  const add = async () => {
    if (password !== confirm) return setError({ message: 'The two passwords differ', field: 'confirm' });
    try {
      await api['users.add']({ name, password });
      setDone(name);
      setError(null);
    } catch (err) {
      setError({ message: errorMessage(err), field: errorField(err) });
    }
  };

  return (
    <section className={styles.guide} aria-label="First run">
      <div>
        <Text weight="semibold" size={400} block>Welcome to Relaydesk</Text>
        <Text block>Your server right now:</Text>
        <ul className={styles.list}>
          {listener
            ? <li>listens on {server?.config.bindAddress === 'all' ? 'every address' : host} port {listener.port}</li>
            : <li style={{ color: tokens.colorPaletteRedForeground1 }}>is NOT listening{failure ? `: ${failure.message}${server?.bindRetrySeconds ? ` (trying again every ${server.bindRetrySeconds} seconds)` : ''}` : server?.config.state === 'stopped' ? ': it is stopped' : ''}</li>}
          <li>{a?.requireSecureChannel ? 'requires TLS (STARTTLS) before anything else' : 'accepts clients without TLS'}{a?.requireStrongEncryption ? ', with strong encryption only' : ''}</li>
          <li>{a?.anonymous ? 'lets clients send without signing in (anonymous access is on)' : 'requires every client to sign in; anonymous access is off'}{a && a.trustedDevices.length > 0 ? `, except ${a.trustedDevices.length} trusted device(s)` : ''}</li>
          <li>relays {a?.relayForAuthenticated ? 'for signed-in users' : 'not even for signed-in users'}{relayRules === 0 ? '; the relay list is empty' : `; the relay list has ${relayRules} entr${relayRules === 1 ? 'y' : 'ies'}`}</li>
        </ul>
        <Text block style={{ marginTop: 12 }} weight="semibold">In the mail client or scanner</Text>
        <table className={styles.table}>
          <tbody>
            <tr><td>Server</td><td>{host}</td></tr>
            <tr><td>Port</td><td>{listener ? listener.port : `${server?.config.port ?? 2525} (not listening yet)`}</td></tr>
            <tr><td>Security</td><td>{a?.requireSecureChannel === false ? 'STARTTLS (recommended)' : 'STARTTLS'}</td></tr>
            <tr><td>Authentication</td><td>Normal password (PLAIN or LOGIN), with the user below</td></tr>
          </tbody>
        </table>
      </div>
      <div className={styles.form}>
        {hasUsers && !done ? (
          <>
            <Text>{users.data.length} user{users.data.length === 1 ? '' : 's'} can sign in. Add more, reset passwords or set limits under Users.</Text>
            <Button onClick={() => setReopened(false)}>Hide</Button>
          </>
        ) : done ? (
          <MessageBar intent="success"><MessageBarBody><MessageBarTitle>User {done} added</MessageBarTitle>Use it in your first client. Add more under Users.</MessageBarBody></MessageBar>
        ) : (
          <>
            <Text weight="semibold">Add the first user</Text>
            <Field label="User name" hint="For example scanner@yourcompany.com" validationMessage={error?.field === 'name' ? error.message : undefined}>
              <Input value={name} onChange={(_e, d) => setName(d.value)} />
            </Field>
            <Field label="Password" hint="At least 8 characters; a passphrase is best" validationMessage={error?.field === 'password' ? error.message : undefined}>
              <Input type="password" value={password} onChange={(_e, d) => setPassword(d.value)} />
            </Field>
            <Field label="Confirm password" validationMessage={error?.field === 'confirm' ? error.message : undefined}>
              <Input type="password" value={confirm} onChange={(_e, d) => setConfirm(d.value)} />
            </Field>
            {error && !error.field && <Text style={{ color: tokens.colorPaletteRedForeground1 }}>{error.message}</Text>}
            <Button appearance="primary" onClick={() => void add()} disabled={!name || !password}>Add user</Button>
          </>
        )}
        {done && <Button onClick={() => { setDone(null); users.reload(); }}>Close this guide</Button>}
      </div>
    </section>
  );
}
