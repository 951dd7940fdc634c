// Retention and disk, in one place: how long the live log and the queue's history are kept,
// whether delivered messages are kept as copies, and the free-space floor below which new mail
// is refused (452 4.3.1 at MAIL FROM) until space is back.
import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Field, Input, MessageBar, MessageBarBody, Text } from '@fluentui/react-components';
import { useState } from 'react';
import type { LogSettings } from '../../server/contract/admin-api';
import { api, errorMessage } from '../api/client';

const FIELDS: Array<{ key: keyof LogSettings; label: string; hint: string }> = [
  { key: 'retentionDays', label: 'Keep the live log for (days)', hint: 'Older events are deleted; so are the oldest beyond the event limit.' },
  { key: 'maxEvents', label: 'Keep at most (log events)', hint: 'At least 1,000.' },
  { key: 'queueHistoryDays', label: 'Keep records of finished messages for (days)', hint: 'Envelope, attempts and final reply of delivered or failed mail, for the Queues page.' },
  { key: 'keepDeliveredDays', label: 'Keep a copy of delivered messages for (days)', hint: '0 = remove each message from the spool as soon as it is delivered (or failed and reported).' },
  { key: 'minFreeMiB', label: 'Refuse new mail below (MiB free)', hint: 'The smaller of this and the percentage below is the floor; 0 turns the watch off.' },
  { key: 'minFreePercent', label: 'or below (% of the disk free)', hint: 'Small disks use the percentage, large ones the MiB figure.' },
];

export function RetentionDialog({ settings, onClose }: { settings: LogSettings; onClose(saved: boolean): void }) {
  const [draft, setDraft] = useState<LogSettings>(settings);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    try {
      await api['log.setSettings'](draft);
      onClose(true);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) onClose(false); }}>
      <DialogSurface style={{ maxWidth: 640 }}>
        <DialogBody>
          <DialogTitle>Retention and disk</DialogTitle>
          <DialogContent style={{ display: 'flex', flexDirection: 'column', gap: 12 }}>
            {error && <MessageBar intent="error"><MessageBarBody>{error}</MessageBarBody></MessageBar>}
            {FIELDS.map(({ key, label, hint }) => (
              <Field key={key} label={label} hint={hint}>
                <Input type="number" min={0} value={String(draft[key])} style={{ width: 160 }} onChange={(_e, d) => setDraft({ ...draft, [key]: Number(d.value) })} />
              </Field>
            ))}
            <Text size={200}>Mail already accepted is never removed by these settings before it is delivered or has failed.</Text>
          </DialogContent>
          <DialogActions>
            <Button onClick={() => onClose(false)}>Cancel</Button>
            <Button appearance="primary" onClick={() => void save()}>OK</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
