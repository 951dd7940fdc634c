// Console sign-in, and the first-time choice of the console password through the one-time link
// that `relaydesk serve --console` prints (#setup=TOKEN; the fragment never reaches a server log).
import { Button, Field, Input, makeStyles, MessageBar, MessageBarBody, Subtitle1, Text, tokens } from '@fluentui/react-components';
import { type FormEvent, useState } from 'react';
import { errorField, errorMessage, signIn } from '../api/client';

const useStyles = makeStyles({
  page: { minHeight: '100vh', display: 'grid', placeItems: 'center', backgroundColor: tokens.colorNeutralBackground2 },
  card: { width: 'min(400px, 92vw)', padding: tokens.spacingHorizontalXXL, borderRadius: tokens.borderRadiusXLarge, backgroundColor: tokens.colorNeutralBackground1, boxShadow: tokens.shadow16, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  brand: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalS },
});

export function SignInPage({ setupRequired, onSignedIn }: { setupRequired: boolean; onSignedIn(): void }) {
  const styles = useStyles();
  const token = /#setup=([\w-]+)/.exec(window.location.hash)?.[1] ?? null;
  const setup = setupRequired && token !== null;
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (setup && password !== confirm) return setError({ message: 'The two passwords differ', field: 'confirm' });
    setBusy(true);
    try {
      await signIn(setup ? 'setup' : 'login', setup ? { password, token: token ?? '' } : { password });
      if (setup) window.location.hash = '#/servers';
      onSignedIn();
    } catch (err) {
      setError({ message: errorMessage(err), field: errorField(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className={styles.page}>
      <form className={styles.card} onSubmit={(e) => void submit(e)}>
        <div className={styles.brand}><img src="./favicon.svg" alt="" width={32} height={32} /><Subtitle1 as="h1">Relaydesk</Subtitle1></div>
        {setup ? <Text>Choose the password for this console. You will use it to sign in from now on.</Text> : <Text>Sign in to manage the SMTP server on this machine.</Text>}
        {setupRequired && !setup && (
          <MessageBar intent="info"><MessageBarBody>No console password yet. Open the setup link that <code>relaydesk serve</code> printed, or run <code>relaydesk admin set-password --password-stdin</code>.</MessageBarBody></MessageBar>
        )}
        <Field label={setup ? 'New password' : 'Password'} hint={setup ? 'At least 8 characters' : undefined} validationMessage={error && error.field !== 'confirm' ? error.message : undefined}>
          <Input type="password" autoFocus value={password} onChange={(_e, d) => setPassword(d.value)} />
        </Field>
        {setup && (
          <Field label="Confirm password" validationMessage={error?.field === 'confirm' ? error.message : undefined}>
            <Input type="password" value={confirm} onChange={(_e, d) => setConfirm(d.value)} />
          </Field>
        )}
        <Button appearance="primary" type="submit" disabled={busy || !password}>{setup ? 'Set password and sign in' : 'Sign in'}</Button>
      </form>
    </main>
  );
}
