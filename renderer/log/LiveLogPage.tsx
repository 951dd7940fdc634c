// The live log: a virtualized table that follows new events (or pauses), filters, the session
// transcript on click, exports in IIS's W3C extended format and CSV, and a per-minute chart.
import {
  Badge, Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Dropdown, Field, Input, makeStyles, mergeClasses,
  MessageBar, MessageBarBody, Option, Switch, Text, tokens,
} from '@fluentui/react-components';
import { ArrowDownloadRegular } from '@fluentui/react-icons';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { LoggedEvent } from '../../server/contract/admin-api';
import { describeEvent, type LogView, matchesLogView, verdictOf } from '../../server/contract/log-view';
import { api, errorMessage } from '../api/client';
import { useApiData, useEvents } from '../api/hooks';
import { useServers } from '../api/servers';
import { downloadText, ErrorBar, PageHeader, useUiStyles } from '../components/ui';
import { ActivityChart } from './ActivityChart';

const MAX_ROWS = 5000;
const ROW_HEIGHT = 30;
const COLUMNS = '170px 150px 130px 110px 1fr 90px';

const useStyles = makeStyles({
  filters: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'flex-end', flexWrap: 'wrap' },
  // The page fills the window and the log's scroller takes what is left: one scroll area, so the
  // newest row is never below the window's edge (under the status bar).
  fill: { flex: '1 1 0', minHeight: '560px' },
  table: { flex: '1 1 0', minHeight: '200px', border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium, backgroundColor: tokens.colorNeutralBackground1, display: 'flex', flexDirection: 'column' },
  head: { display: 'grid', gridTemplateColumns: COLUMNS, gap: tokens.spacingHorizontalS, padding: `6px ${tokens.spacingHorizontalM}`, fontWeight: tokens.fontWeightSemibold, borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, fontSize: tokens.fontSizeBase200 },
  scroller: { flex: '1 1 0', minHeight: 0, overflowY: 'auto', position: 'relative', ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: '-2px' } },
  row: { display: 'grid', gridTemplateColumns: COLUMNS, gap: tokens.spacingHorizontalS, padding: `0 ${tokens.spacingHorizontalM}`, alignItems: 'center', height: `${ROW_HEIGHT}px`, fontSize: tokens.fontSizeBase200, cursor: 'pointer', borderBottom: `1px solid ${tokens.colorNeutralStroke3}`, position: 'absolute', left: 0, right: 0, boxSizing: 'border-box', ':hover': { backgroundColor: tokens.colorNeutralBackground1Hover } },
  cell: { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
  transcript: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, whiteSpace: 'pre-wrap', maxHeight: '60vh', overflowY: 'auto', margin: 0 },
});

/** Screen filters use the contract's predicate, as the store query and the exports do. */
interface Filters { server: string; address: string; user: string; verdict: string; text: string }

function viewOf(f: Filters): LogView {
  return { server: f.server || undefined, address: f.address || undefined, user: f.user || undefined, verdict: (f.verdict || undefined) as LogView['verdict'], text: f.text || undefined };
}

export function LiveLogPage() {
  const ui = useUiStyles();
  const styles = useStyles();
  const { servers } = useServers();
  const [events, setEvents] = useState<LoggedEvent[]>([]);
  const [follow, setFollow] = useState(true);
  const [filters, setFilters] = useState<Filters>({ server: '', address: '', user: '', verdict: '', text: '' });
  const [error, setError] = useState<string | null>(null);
  const [transcript, setTranscript] = useState<{ session: string; lines: string[] } | null>(null);
  const counters = useApiData(() => api['counters.get']({}), [], 5000);
  const pending = useRef<LoggedEvent[]>([]);

  useEffect(() => {
    api['log.query']({ limit: 1000 }).then((latest) => setEvents(latest.reverse()), (err: unknown) => setError(errorMessage(err)));
  }, []);
  useEvents((event) => {
    if ('session' in event) pending.current.push({ ...event, id: 0, user: event.user });
  });
  // Batch arriving events into one render per 250 ms, so a busy server does not re-render per event.
  useEffect(() => {
    const timer = setInterval(() => {
      if (pending.current.length === 0) return;
      const batch = pending.current;
      pending.current = [];
      setEvents((current) => [...current, ...batch].slice(-MAX_ROWS));
    }, 250);
    return () => clearInterval(timer);
  }, []);

  const shown = useMemo(() => events.filter((e) => matchesLogView(e, viewOf(filters))), [events, filters]);
  const unlogged = servers?.filter((s) => !s.config.loggingEnabled).map((s) => s.config.name) ?? [];
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: shown.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 20 });
  useEffect(() => {
    if (follow && shown.length > 0) virtualizer.scrollToIndex(shown.length - 1, { align: 'end' });
  }, [follow, shown.length, virtualizer]);

  const exportLog = async (format: 'w3c' | 'csv') => {
    try {
      const view = viewOf(filters);
      const filter = { limit: 5000, ...Object.fromEntries(Object.entries(view).filter(([, v]) => v !== undefined)) };
      const text = await api['log.export']({ format, filter });
      downloadText(format === 'w3c' ? 'relaydesk-smtp.log' : 'relaydesk-smtp.csv', text, format === 'csv' ? 'text/csv' : 'text/plain');
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  const openTranscript = async (session: string) => {
    try {
      setTranscript({ session, lines: await api['log.transcript']({ session }) });
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  const set = (patch: Partial<Filters>) => setFilters({ ...filters, ...patch });

  return (
    <div className={mergeClasses(ui.page, styles.fill)}>
      <PageHeader title="Live log" description="Every connection, refusal (with the rule that decided), TLS, sign-in, MAIL, RCPT and DATA. Credentials are never shown or stored.">
        <Switch checked={follow} onChange={(_e, d) => setFollow(d.checked)} label={follow ? 'Following new events' : 'Paused'} />
        <Button icon={<ArrowDownloadRegular />} onClick={() => void exportLog('w3c')}>Export W3C</Button>
        <Button icon={<ArrowDownloadRegular />} onClick={() => void exportLog('csv')}>Export CSV</Button>
      </PageHeader>
      {counters.data && <ActivityChart perMinute={counters.data.perMinute} />}
      <ErrorBar error={error} />
      {unlogged.length > 0 && (
        <MessageBar intent="info"><MessageBarBody>
          Logging is off for {unlogged.join(', ')}: its sessions show here while this page is open and count in the chart, but no history is kept (nothing to search or export later).
        </MessageBarBody></MessageBar>
      )}
      <div className={styles.filters} role="search">
        <Field label="Server">
          <Dropdown value={filters.server || 'All servers'} selectedOptions={[filters.server]} onOptionSelect={(_e, d) => set({ server: d.optionValue ?? '' })}>
            <Option value="">All servers</Option>
            {servers?.map((s) => <Option key={s.config.name} value={s.config.name}>{s.config.name}</Option>)}
          </Dropdown>
        </Field>
        <Field label="Client address"><Input value={filters.address} placeholder="part of it: 192.0.2." onChange={(_e, d) => set({ address: d.value })} /></Field>
        <Field label="User"><Input value={filters.user} placeholder="part of a user or device" onChange={(_e, d) => set({ user: d.value })} /></Field>
        <Field label="Verdict">
          <Dropdown value={{ '': 'Any', allow: 'Allowed', refuse: 'Refused', defer: 'Deferred' }[filters.verdict] ?? 'Any'} selectedOptions={[filters.verdict]} onOptionSelect={(_e, d) => set({ verdict: d.optionValue ?? '' })}>
            <Option value="">Any</Option><Option value="allow">Allowed</Option><Option value="refuse">Refused</Option><Option value="defer">Deferred</Option>
          </Dropdown>
        </Field>
        <Field label="Search"><Input value={filters.text} onChange={(_e, d) => set({ text: d.value })} placeholder="part of the line: command, reply, rule" /></Field>
        <Text size={200}>{shown.length} of {events.length} events</Text>
      </div>
      <div className={styles.table} role="table" aria-label="Live log" aria-rowcount={shown.length}>
        <div className={styles.head} role="row">
          <span role="columnheader">Time</span><span role="columnheader">Server</span><span role="columnheader">Client</span><span role="columnheader">User</span><span role="columnheader">Event</span><span role="columnheader">Verdict</span>
        </div>
        <div className={styles.scroller} ref={scroller} tabIndex={0} role="rowgroup" aria-label="Events, newest last (arrow keys and Page Up/Down scroll)"
          onWheel={() => setFollow(false)} onKeyDown={(k) => { if (['ArrowUp', 'PageUp', 'Home'].includes(k.key)) setFollow(false); }}>
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((item) => {
              const e = shown[item.index] as LoggedEvent;
              const verdict = verdictOf(e);
              const rule = 'decision' in e && e.decision ? e.decision.rule : '';
              const line = describeEvent(e);
              return (
                <div key={item.key} role="row" tabIndex={0} className={styles.row} style={{ transform: `translateY(${item.start}px)` }}
                  onClick={() => void openTranscript(e.session)} onKeyDown={(k) => { if (k.key === 'Enter') void openTranscript(e.session); }} title={rule ? `Rule: ${rule}` : undefined}>
                  <span role="cell" className={styles.cell}>{new Date(e.at).toLocaleTimeString()}</span>
                  <span role="cell" className={styles.cell}>{e.server}</span>
                  <span role="cell" className={styles.cell}>{e.address}</span>
                  <span role="cell" className={styles.cell}>{e.user ?? (e.device ? `device: ${e.device}` : '')}</span>
                  {/* The whole line on hover: long ones (a failed TLS handshake says what to do) are cut to the column. */}
                  <span role="cell" className={styles.cell} title={rule ? `${line}\nRule: ${rule}` : line}>{line}</span>
                  <span role="cell">{verdict && <Badge size="small" appearance="tint" color={verdict === 'allow' ? 'success' : verdict === 'refuse' ? 'danger' : 'warning'}>{verdict}</Badge>}</span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {transcript && (
        <Dialog open onOpenChange={(_e, d) => { if (!d.open) setTranscript(null); }}>
          <DialogSurface style={{ maxWidth: '900px', width: '90vw' }}>
            <DialogBody>
              <DialogTitle>Session {transcript.session}</DialogTitle>
              <DialogContent><pre className={styles.transcript}>{transcript.lines.join('\n')}</pre></DialogContent>
              <DialogActions><Button appearance="primary" onClick={() => setTranscript(null)}>Close</Button></DialogActions>
            </DialogBody>
          </DialogSurface>
        </Dialog>
      )}
    </div>
  );
}
