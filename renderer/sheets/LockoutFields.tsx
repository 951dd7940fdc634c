// The failed sign-in policy on the Authentication dialog: when replies slow down, when a client
// address (or a user at an address) is blocked, and for how long. The numbers are the store's;
// the text says how they are counted, so the admin knows a stranger cannot lock a scanner out.
import { Field, Input, makeStyles, Text, tokens } from '@fluentui/react-components';
import type { LockoutSettings } from '../../server/contract/settings';

const useStyles = makeStyles({
  group: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, marginTop: tokens.spacingVerticalM },
  row: { display: 'flex', gap: tokens.spacingHorizontalM, flexWrap: 'wrap', alignItems: 'flex-end' },
});

const FIELDS: Array<{ key: keyof LockoutSettings; label: string }> = [
  { key: 'slowAfter', label: 'Slow down replies after (failures)' },
  { key: 'blockAfter', label: 'Block after (failures)' },
  { key: 'windowMinutes', label: 'Counted within (minutes)' },
  { key: 'blockMinutes', label: 'Block for (minutes)' },
];

export function LockoutFields({ lockout, onChange }: { lockout: LockoutSettings; onChange(next: LockoutSettings): void }) {
  const styles = useStyles();
  return (
    <fieldset className={styles.group} style={{ border: 'none', padding: 0, margin: 0 }}>
      <legend><Text weight="semibold">Failed sign-ins</Text></legend>
      <div className={styles.row}>
        {FIELDS.map(({ key, label }) => (
          <Field key={key} label={label}>
            <Input type="number" min={1} value={String(lockout[key])} style={{ width: 110 }}
              onChange={(_e, d) => onChange({ ...lockout, [key]: Math.max(1, Math.floor(Number(d.value) || 1)) })} />
          </Field>
        ))}
      </div>
      <Text size={200}>
        Counted per client address and per user at each address: guessing from one address blocks that address; guessing one user&apos;s
        password from many addresses blocks that user only at addresses it never signed in from, so its usual devices (those that signed
        in within the last 30 days) keep working. Each block is in the live log with its rule.
      </Text>
    </fieldset>
  );
}
