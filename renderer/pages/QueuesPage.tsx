// Queues: accepted messages with their state and each recipient's route and state.
import { Badge, Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Dropdown, Input, MessageBar, MessageBarBody, Option, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import type { LogSettings, QueueDetails, QueueStatus } from '../../server/contract/admin-api';
import { RetentionDialog } from './RetentionDialog';
import { useEffect, useState } from 'react';
import { api } from '../api/client';
import { useAction, useApiData } from '../api/hooks';
import { ErrorBar, formatBytes, formatTime, Loading, PageHeader, useUiStyles } from '../components/ui';

type Filter = QueueStatus | 'waiting' | 'all';

const FILTER_LABELS: Record<Filter, string> = {
  waiting: 'Waiting to be sent', queued: 'Queued (not tried yet)', retrying: 'Retrying', 'waiting-for-sign-in': 'Waiting for sign-in', frozen: 'Frozen',
  delivered: 'Delivered', failed: 'Failed (report sent)', all: 'All messages',
};
const STATUS_PILL: Record<QueueStatus, { label: string; color: 'informative' | 'warning' | 'danger' | 'success' | 'subtle' }> = {
  queued: { label: 'queued', color: 'informative' }, retrying: { label: 'retrying', color: 'warning' }, 'waiting-for-sign-in': { label: 'waiting for sign-in', color: 'danger' },
  frozen: { label: 'frozen', color: 'subtle' }, delivered: { label: 'delivered', color: 'success' }, failed: { label: 'failed, report sent', color: 'danger' },
};

/** "#/queues/failed" opens the page on that filter (the status bar links there). */
function initialFilter(): Filter {
  const wanted = /^#\/queues\/([a-z-]+)/.exec(window.location.hash)?.[1];
  return wanted && wanted in FILTER_LABELS ? wanted as Filter : 'waiting';
}

const PAGE_SIZE = 200;

export function QueuesPage() {
  const ui = useUiStyles();
  const [filter, setFilter] = useState<Filter>(initialFilter);
  const [destination, setDestination] = useState('');
  // Pages of 200, oldest first: the cursors of the pages before this one (a million queued messages stay a page).
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const queue = useApiData(() => api['queue.list']({
    ...(filter === 'all' ? {} : filter === 'waiting' ? { state: 'queued' as const } : { status: filter }), ...(destination.trim() ? { destination } : {}),
    limit: PAGE_SIZE, ...(after ? { after } : {}),
  }), [filter, destination, after], 5000);
  useEffect(() => setCursors([]), [filter, destination]);
  const { error, run } = useAction(queue.reload);
  const act = (id: string, action: 'retry' | 'freeze' | 'thaw' | 'delete' | 'delete-with-report') => run(() => api['queue.action']({ id, action }));
  const [details, setDetails] = useState<QueueDetails | null>(null);
  const show = (id: string) => run(async () => { setSource(null); setDetails(await api['queue.show']({ id })); });
  const [source, setSource] = useState<{ text: string; truncated: boolean } | null>(null);
  const openSource = (id: string) => run(async () => setSource(await api['queue.source']({ id })));
  const [retention, setRetention] = useState<LogSettings | null>(null);
  const editRetention = () => run(async () => setRetention(await api['log.getSettings']({})));
  return (
    <div className={ui.page}>
      <PageHeader title="Queues" description="Accepted messages and each recipient's state: local domains are dropped at once; other domains go through the smart host or by MX, with retries.">
        <Dropdown aria-label="Show" value={FILTER_LABELS[filter]} selectedOptions={[filter]} onOptionSelect={(_e, d) => setFilter(d.optionValue as Filter)}>
          {(Object.keys(FILTER_LABELS) as Filter[]).map((f) => <Option key={f} value={f}>{FILTER_LABELS[f]}</Option>)}
        </Dropdown>
        <Input aria-label="Destination" placeholder="Destination: domain, local or remote" value={destination} onChange={(_e, v) => setDestination(v.value)} style={{ width: 300 }} />
        <Button onClick={() => void editRetention()}>Retention and disk…</Button>
      </PageHeader>
      {retention && <RetentionDialog settings={retention} onClose={() => setRetention(null)} />}
      <ErrorBar error={queue.error ?? error} />
      {!queue.data && queue.loading && <Loading />}
      {queue.data && (
        <div className={ui.pager} role="navigation" aria-label="Queue pages">
          <Text size={200}>
            In the queue: {queue.data.counts.queued.toLocaleString()} queued, {queue.data.counts.frozen.toLocaleString()} frozen, {queue.data.counts.done.toLocaleString()} finished (history).
            {' '}Showing {cursors.length * PAGE_SIZE + (queue.data.messages.length ? 1 : 0)}–{cursors.length * PAGE_SIZE + queue.data.messages.length}{queue.data.next ? ' and more' : ''}, oldest first.
          </Text>
          <Button size="small" disabled={cursors.length === 0} onClick={() => setCursors([])}>First page</Button>
          <Button size="small" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>Previous page</Button>
          <Button size="small" disabled={!queue.data.next} onClick={() => { const next = queue.data?.next; if (next) setCursors([...cursors, next]); }}>Next page</Button>
        </div>
      )}
      {queue.data && (
        <div className={ui.tableWrap}>
          <Table aria-label="Queue">
            <TableHeader><TableRow><TableHeaderCell>Queue id</TableHeaderCell><TableHeaderCell>Received</TableHeaderCell><TableHeaderCell>From</TableHeaderCell><TableHeaderCell>Recipients</TableHeaderCell><TableHeaderCell>Size</TableHeaderCell><TableHeaderCell>State</TableHeaderCell><TableHeaderCell>Actions</TableHeaderCell></TableRow></TableHeader>
            <TableBody>
              {queue.data.messages.length === 0 && <TableRow><TableCell colSpan={6}><Text italic>No messages.</Text></TableCell></TableRow>}
              {queue.data.messages.map((m) => (
                <TableRow key={m.id}>
                  <TableCell><span className={ui.mono}>{m.id}</span></TableCell>
                  <TableCell>{formatTime(m.receivedAt)}</TableCell>
                  <TableCell>{m.from || '<>'}</TableCell>
                  <TableCell>{m.recipients.map((r) => (
                    <div key={r.address} title={r.lastReply ?? undefined}>{r.address} <Badge size="small" appearance="tint" color={r.state === 'delivered' ? 'success' : r.state === 'failed' ? 'danger' : 'informative'}>{r.route === 'local' ? 'local' : 'remote'} · {r.state}{r.attempts ? ` · ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}` : ''}</Badge>{r.lastReply && r.state !== 'delivered' && <div><Text size={200}>{r.lastReply}</Text></div>}</div>
                  ))}</TableCell>
                  <TableCell>{formatBytes(m.size)}</TableCell>
                  <TableCell>
                    <Badge appearance="filled" color={STATUS_PILL[m.status].color} style={{ whiteSpace: 'nowrap' }}>{STATUS_PILL[m.status].label}</Badge>
                    {m.state === 'done' && <div><Text size={200}>{m.body === 'kept' ? 'copy kept' : m.body === 'removed' ? 'body removed' : ''}</Text></div>}
                  </TableCell>
                  <TableCell>
                    <div style={{ display: 'flex', gap: 4, flexWrap: 'wrap' }}>
                      <Button size="small" onClick={() => void show(m.id)}>Details</Button>
                    </div>
                    {m.state !== 'done' && (
                      <div style={{ display: 'flex', gap: 4, flexWrap: 'wrap', marginTop: 4 }}>
                        <Button size="small" onClick={() => void act(m.id, 'retry')}>Retry now</Button>
                        <Button size="small" onClick={() => void act(m.id, m.state === 'frozen' ? 'thaw' : 'freeze')}>{m.state === 'frozen' ? 'Thaw' : 'Freeze'}</Button>
                        <Button size="small" onClick={() => void act(m.id, 'delete-with-report')}>Delete and tell sender</Button>
                        <Button size="small" onClick={() => void act(m.id, 'delete')}>Delete</Button>
                      </div>
                    )}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
      {details && (
        <Dialog open onOpenChange={(_e, d) => { if (!d.open) setDetails(null); }}>
          <DialogSurface style={{ maxWidth: 900, width: '90vw' }}>
            <DialogBody>
              <DialogTitle>Message {details.id}</DialogTitle>
              <DialogContent>
                <Text block>Received {formatTime(details.receivedAt)} on {details.server} from {details.clientAddress}{details.authUser ? ` (signed in as ${details.authUser})` : ''}; {formatBytes(details.size)}; {details.state}.</Text>
                <Text block>From &lt;{details.from}&gt;</Text>
                {details.recipients.map((r) => (
                  <div key={r.address}>
                    <Text block>To &lt;{r.address}&gt;: {r.route}, {r.state}, {r.attempts} attempt(s){details.nextAttempts[r.address] && r.state === 'queued' ? `, next ${formatTime(details.nextAttempts[r.address] ?? '')}` : ''}{r.lastReply ? ` — last reply: ${r.lastReply}` : ''}</Text>
                    {r.explanation && <MessageBar intent="warning"><MessageBarBody><b>{r.explanation.problem}</b> {r.explanation.fix}</MessageBarBody></MessageBar>}
                  </div>
                ))}
                <pre className={ui.mono} style={{ whiteSpace: 'pre-wrap', maxHeight: '50vh', overflowY: 'auto' }} aria-label={source ? 'Message source' : 'Headers'}>{source ? `${source.text}${source.truncated ? '\n… (only the first MiB is shown)' : ''}` : details.headers}</pre>
              </DialogContent>
              <DialogActions>
                {details.body !== 'removed' && !source && <Button onClick={() => void openSource(details.id)}>{details.body === 'kept' ? 'Open kept copy' : 'Show whole message'}</Button>}
                <Button appearance="primary" onClick={() => setDetails(null)}>Close</Button>
              </DialogActions>
            </DialogBody>
          </DialogSurface>
        </Dialog>
      )}
    </div>
  );
}
