// Messages tab: size and count limits, badmail and non-delivery report addresses.
import { Field, Input } from '@fluentui/react-components';
import { type VirtualServerConfig } from '../../../server/contract/settings';
import { type FieldError, KB, LimitRow, usePropertyStyles as useStyles } from './shared';

export function MessagesTab({ draft, change, fieldError }: { draft: VirtualServerConfig; change(p: Partial<VirtualServerConfig>): void; fieldError: FieldError }) {
  const styles = useStyles();
  const m = draft.messages;
  const set = (patch: Partial<VirtualServerConfig['messages']>) => change({ messages: { ...m, ...patch } });
  return (
    <div className={styles.form}>
      <LimitRow label="Limit message size to" unit="KB" value={m.maxMessageBytes} defaultValue={25 * 1024 * KB} onChange={(v) => set({ maxMessageBytes: v })} error={fieldError('messages.maxMessageBytes')} />
      <LimitRow label="Limit session size to" unit="KB" value={m.maxSessionBytes} defaultValue={100 * 1024 * KB} onChange={(v) => set({ maxSessionBytes: v })} error={fieldError('messages.maxSessionBytes')} />
      <LimitRow label="Limit number of messages per connection to" value={m.maxMessagesPerConnection} defaultValue={100} onChange={(v) => set({ maxMessagesPerConnection: v })} error={fieldError('messages.maxMessagesPerConnection')} />
      <LimitRow label="Limit number of recipients per message to" value={m.maxRecipientsPerMessage} defaultValue={100} onChange={(v) => set({ maxRecipientsPerMessage: v })} error={fieldError('messages.maxRecipientsPerMessage')} />
      <Field label="Send copy of Non-Delivery Report to" validationMessage={fieldError('messages.ndrCopyTo')}>
        <Input value={m.ndrCopyTo ?? ''} onChange={(_e, d) => set({ ndrCopyTo: d.value.trim() || null })} placeholder="postmaster@example.com" />
      </Field>
      <Field label="Badmail directory" hint="A full path (C:\Mail\Badmail, /srv/mail/badmail) for messages that can be neither delivered nor returned; empty = inside the data folder" validationMessage={fieldError('messages.badmailFolder')}>
        <Input value={m.badmailFolder ?? ''} onChange={(_e, d) => set({ badmailFolder: d.value.trim() || null })} />
      </Field>
    </div>
  );
}
