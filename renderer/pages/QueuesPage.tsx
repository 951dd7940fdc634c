// Queues: accepted messages with their state and each recipient's route and state.
import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Dropdown, Input, makeStyles, MessageBar, MessageBarBody, mergeClasses, Option, Text } from '@fluentui/react-components';
import type { LogSettings, QueueDetails, QueueStatus } from '../../server/contract/admin-api';
import { RetentionDialog } from './RetentionDialog';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import { useAction } from '../api/hooks';
import { ErrorBar, formatBytes, formatTime, PageHeader, useUiStyles } from '../components/ui';
import { type QueueAction, QueueList, type QueueQuery } from './QueueList';

type Filter = QueueStatus | 'waiting' | 'all';

// The page fills the window and the list's scroller takes what is left (as the live log does).
const useStyles = makeStyles({ fill: { flex: '1 1 0', minHeight: '440px' } });

const FILTER_LABELS: Record<Filter, string> = {
  waiting: 'Waiting to be sent', queued: 'Queued (not tried yet)', retrying: 'Retrying', 'waiting-for-sign-in': 'Waiting for sign-in', frozen: 'Frozen',
  delivered: 'Delivered', failed: 'Failed (report sent)', all: 'All messages',
};

/** "#/queues/failed" opens the page on that filter (the status bar links there). */
function initialFilter(): Filter {
  const wanted = /^#\/queues\/([a-z-]+)/.exec(window.location.hash)?.[1];
  return wanted && wanted in FILTER_LABELS ? wanted as Filter : 'waiting';
}

export function QueuesPage() {
  const ui = useUiStyles();
  const styles = useStyles();
  const [filter, setFilter] = useState<Filter>(initialFilter);
  const [destination, setDestination] = useState('');
  // Rows in view are fetched again every 5 s and after an action; the list keeps its place.
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setRefresh((r) => r + 1), 5000);
    return () => clearInterval(timer);
  }, []);
  const reload = useCallback(() => setRefresh((r) => r + 1), []);
  const query = useMemo<QueueQuery>(() => ({
    ...(filter === 'all' ? {} : filter === 'waiting' ? { state: 'queued' as const } : { status: filter }), ...(destination.trim() ? { destination: destination.trim() } : {}),
  }), [filter, destination]);
  const load = useCallback((q: QueueQuery, offset: number, limit: number) => api['queue.list']({ ...q, offset, limit }), []);
  const { error, run } = useAction(reload);
  const act = (id: string, action: QueueAction) => void run(() => api['queue.action']({ id, action }));
  const [details, setDetails] = useState<QueueDetails | null>(null);
  const show = (id: string) => void run(async () => { setSource(null); setDetails(await api['queue.show']({ id })); });
  const [source, setSource] = useState<{ text: string; truncated: boolean } | null>(null);
  const openSource = (id: string) => run(async () => setSource(await api['queue.source']({ id })));
  const [retention, setRetention] = useState<LogSettings | null>(null);
  const editRetention = () => run(async () => setRetention(await api['log.getSettings']({})));
  return (
    <div className={mergeClasses(ui.page, styles.fill)}>
      <PageHeader title="Queues" description="Accepted messages and each recipient's state: local domains are dropped at once; other domains go through the smart host or by MX, with retries.">
        <Dropdown aria-label="Show" value={FILTER_LABELS[filter]} selectedOptions={[filter]} onOptionSelect={(_e, d) => setFilter(d.optionValue as Filter)}>
          {(Object.keys(FILTER_LABELS) as Filter[]).map((f) => <Option key={f} value={f}>{FILTER_LABELS[f]}</Option>)}
        </Dropdown>
        <Input aria-label="Destination" placeholder="Destination: domain, local or remote" value={destination} onChange={(_e, v) => setDestination(v.value)} style={{ width: 300 }} />
        <Button onClick={() => void editRetention()}>Retention and disk…</Button>
      </PageHeader>
      {retention && <RetentionDialog settings={retention} onClose={() => setRetention(null)} />}
      <ErrorBar error={error} />
      <QueueList query={query} load={load} refresh={refresh} onDetails={show} onAction={act} />
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
