// Queues: accepted messages with their state and each recipient's route and state.
import { Badge, Button, Dropdown, Input, Option, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import { useState } from 'react';
import { api } from '../api/client';
import { useAction, useApiData } from '../api/hooks';
import { ErrorBar, formatBytes, formatTime, Loading, PageHeader, useUiStyles } from '../components/ui';

type Filter = 'queued' | 'done' | 'frozen' | 'all';

export function QueuesPage() {
  const ui = useUiStyles();
  const [filter, setFilter] = useState<Filter>('queued');
  const [destination, setDestination] = useState('');
  const queue = useApiData(() => api['queue.list']({ ...(filter === 'all' ? {} : { state: filter }), ...(destination.trim() ? { destination } : {}) }), [filter, destination], 5000);
  const { error, run } = useAction(queue.reload);
  const act = (id: string, action: 'retry' | 'freeze' | 'thaw' | 'delete' | 'delete-with-report') => run(() => api['queue.action']({ id, action }));
  return (
    <div className={ui.page}>
      <PageHeader title="Queues" description="Accepted messages and each recipient's state: local domains are dropped at once; other domains go through the smart host or by MX, with retries.">
        <Dropdown aria-label="Show" value={{ queued: 'Queued', done: 'Done', frozen: 'Frozen', all: 'All messages' }[filter]} selectedOptions={[filter]} onOptionSelect={(_e, d) => setFilter(d.optionValue as Filter)}>
          <Option value="queued">Queued</Option><Option value="done">Done</Option><Option value="frozen">Frozen</Option><Option value="all">All messages</Option>
        </Dropdown>
        <Input aria-label="Destination" placeholder="Destination: domain, local or remote" value={destination} onChange={(_e, v) => setDestination(v.value)} />
      </PageHeader>
      <ErrorBar error={queue.error ?? error} />
      {!queue.data && queue.loading && <Loading />}
      {queue.data && (
        <div className={ui.tableWrap}>
          <Table aria-label="Queue">
            <TableHeader><TableRow><TableHeaderCell>Queue id</TableHeaderCell><TableHeaderCell>Received</TableHeaderCell><TableHeaderCell>From</TableHeaderCell><TableHeaderCell>Recipients</TableHeaderCell><TableHeaderCell>Size</TableHeaderCell><TableHeaderCell>State</TableHeaderCell><TableHeaderCell>Actions</TableHeaderCell></TableRow></TableHeader>
            <TableBody>
              {queue.data.length === 0 && <TableRow><TableCell colSpan={6}><Text italic>No messages.</Text></TableCell></TableRow>}
              {queue.data.map((m) => (
                <TableRow key={m.id}>
                  <TableCell><span className={ui.mono}>{m.id}</span></TableCell>
                  <TableCell>{formatTime(m.receivedAt)}</TableCell>
                  <TableCell>{m.from || '<>'}</TableCell>
                  <TableCell>{m.recipients.map((r) => (
                    <div key={r.address} title={r.lastReply ?? undefined}>{r.address} <Badge size="small" appearance="tint" color={r.state === 'delivered' ? 'success' : r.state === 'failed' ? 'danger' : 'informative'}>{r.route === 'local' ? 'local' : 'remote'} · {r.state}{r.attempts ? ` · ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}` : ''}</Badge>{r.lastReply && r.state !== 'delivered' && <div><Text size={200}>{r.lastReply}</Text></div>}</div>
                  ))}</TableCell>
                  <TableCell>{formatBytes(m.size)}</TableCell>
                  <TableCell>{m.state}</TableCell>
                  <TableCell>
                    {m.state !== 'done' && (
                      <div style={{ display: 'flex', gap: 4, flexWrap: 'wrap' }}>
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
    </div>
  );
}
