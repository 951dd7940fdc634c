// The queue as one scrolled list, however long: only the rows in view are in the page, and they
// are fetched by position, 100 at a time, from the index (`queue.list` with an offset).
import { Badge, Button, makeStyles, Menu, MenuItem, MenuList, MenuPopover, MenuTrigger, mergeClasses, Text, tokens } from '@fluentui/react-components';
import { MoreHorizontalRegular } from '@fluentui/react-icons';
import { type KeyboardEvent, type UIEvent, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { QueuePage, QueueStatus, QueueSummary } from '../../server/contract/admin-api';
import { formatBytes, formatTime } from '../components/ui';

export type QueueAction = 'retry' | 'freeze' | 'thaw' | 'delete' | 'delete-with-report';
export interface QueueQuery { state?: 'queued' | 'done' | 'frozen'; status?: QueueStatus; destination?: string }

const ROW_HEIGHT = 52;
const BLOCK_ROWS = 100;
/** Blocks kept around the ones in view; farther ones are dropped (a million rows never sit in memory). */
const KEPT_BLOCKS = 6;
/** Browsers cap an element's height (Chromium at ~33 million px): past this the scrollbar maps positions proportionally. */
const MAX_SCROLL_PX = 10_000_000;
const COLUMNS = 'minmax(150px, 1.1fr) minmax(110px, 1fr) minmax(170px, 2fr) 72px 150px 124px';

const STATUS_PILL: Record<QueueStatus, { label: string; color: 'informative' | 'warning' | 'danger' | 'success' | 'subtle' }> = {
  queued: { label: 'queued', color: 'informative' }, retrying: { label: 'retrying', color: 'warning' }, 'waiting-for-sign-in': { label: 'waiting for sign-in', color: 'danger' },
  frozen: { label: 'frozen', color: 'subtle' }, delivered: { label: 'delivered', color: 'success' }, failed: { label: 'failed, report sent', color: 'danger' },
};

const useStyles = makeStyles({
  table: { flex: '1 1 0', minHeight: '320px', display: 'flex', flexDirection: 'column', border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium, backgroundColor: tokens.colorNeutralBackground1, overflowX: 'auto' },
  head: { display: 'grid', gridTemplateColumns: COLUMNS, gap: tokens.spacingHorizontalS, padding: `6px ${tokens.spacingHorizontalM}`, fontWeight: tokens.fontWeightSemibold, borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, fontSize: tokens.fontSizeBase200, minWidth: '780px', boxSizing: 'border-box' },
  scroller: { flex: '1 1 0', minHeight: 0, minWidth: '780px', overflowY: 'auto', position: 'relative', ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: '-2px' } },
  row: { display: 'grid', gridTemplateColumns: COLUMNS, gap: tokens.spacingHorizontalS, padding: `0 ${tokens.spacingHorizontalM}`, alignItems: 'center', height: `${ROW_HEIGHT}px`, fontSize: tokens.fontSizeBase200, borderBottom: `1px solid ${tokens.colorNeutralStroke3}`, position: 'absolute', left: 0, right: 0, boxSizing: 'border-box', ':hover': { backgroundColor: tokens.colorNeutralBackground1Hover } },
  cell: { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', minWidth: 0 },
  line: { display: 'block', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
  mono: { fontFamily: tokens.fontFamilyMonospace },
  muted: { color: tokens.colorNeutralForeground3 },
  actions: { display: 'flex', gap: '4px', alignItems: 'center' },
  summary: { display: 'block', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', flexShrink: 0 },
  empty: { padding: tokens.spacingHorizontalM },
});

interface ListWindow { total: number | null; counts: QueuePage['counts'] | null; rows: number; more: boolean }

/**
 * Fetches the blocks of rows in view (and refreshes them on `refresh`); the row count is the
 * index's total for the filter when it has one, else what has been seen so far plus a block while
 * there is more.
 */
function useQueueBlocks(load: (offset: number, limit: number) => Promise<QueuePage>, query: string, refresh: number) {
  const blocks = useRef(new Map<number, { rows: QueueSummary[]; refresh: number }>());
  const inFlight = useRef(new Set<string>());
  const [shown, setShown] = useState<ListWindow>({ total: null, counts: null, rows: 0, more: false });
  const [error, setError] = useState<string | null>(null);
  const [, setVersion] = useState(0);
  const generation = useRef(0);

  useEffect(() => {
    generation.current += 1;
    blocks.current.clear();
    inFlight.current.clear();
    setShown({ total: null, counts: null, rows: 0, more: false });
  }, [query]);

  const ensure = useCallback((firstBlock: number, lastBlock: number) => {
    for (const key of blocks.current.keys()) if (key < firstBlock - KEPT_BLOCKS || key > lastBlock + KEPT_BLOCKS) blocks.current.delete(key);
    for (let block = firstBlock; block <= lastBlock; block++) {
      const have = blocks.current.get(block);
      const flight = `${generation.current}:${block}:${refresh}`;
      if ((have && have.refresh === refresh) || inFlight.current.has(flight)) continue;
      inFlight.current.add(flight);
      const asked = generation.current;
      load(block * BLOCK_ROWS, BLOCK_ROWS).then((page) => {
        inFlight.current.delete(flight);
        if (asked !== generation.current) return;
        blocks.current.set(block, { rows: page.messages, refresh });
        setError(null);
        setShown((w) => {
          const end = block * BLOCK_ROWS + page.messages.length;
          if (page.total !== null) return { total: page.total, counts: page.counts, rows: page.total, more: false };
          // No total for this filter: the list grows as it is scrolled, and shrinks if a block comes back short.
          if (page.next === null) return { total: null, counts: page.counts, rows: end, more: false };
          return end >= w.rows ? { total: null, counts: page.counts, rows: end, more: true } : { ...w, counts: page.counts };
        });
        setVersion((v) => v + 1);
      }, (err: unknown) => {
        inFlight.current.delete(flight);
        if (asked === generation.current) setError(err instanceof Error ? err.message : String(err));
      });
    }
  }, [load, refresh]);

  const row = (index: number): QueueSummary | undefined => blocks.current.get(Math.floor(index / BLOCK_ROWS))?.rows[index % BLOCK_ROWS];
  return { shown, error, ensure, row };
}

export function QueueList({ query, load, refresh, onDetails, onAction }: {
  query: QueueQuery;
  load: (query: QueueQuery, offset: number, limit: number) => Promise<QueuePage>;
  refresh: number;
  onDetails: (id: string) => void;
  onAction: (id: string, action: QueueAction) => void;
}) {
  const styles = useStyles();
  const queryKey = JSON.stringify(query);
  const loadBlock = useCallback((offset: number, limit: number) => load(query, offset, limit), [queryKey, load]); // eslint-disable-line react-hooks/exhaustive-deps
  const { shown, error, ensure, row } = useQueueBlocks(loadBlock, queryKey, refresh);
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ scrollTop: 0, height: 600 });

  useEffect(() => { if (scroller.current) scroller.current.scrollTop = 0; }, [queryKey]);
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return undefined;
    const observer = new ResizeObserver(() => setView((v) => (v.height === element.clientHeight && v.scrollTop === element.scrollTop ? v : { scrollTop: element.scrollTop, height: element.clientHeight })));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const onScroll = (e: UIEvent<HTMLDivElement>) => setView({ scrollTop: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight });

  // Rows and the blocks they are in; the first row's block is always asked for (it gives the total).
  const rowCount = shown.rows + (shown.more ? BLOCK_ROWS : 0);
  const visibleRows = Math.ceil(view.height / ROW_HEIGHT) + 1;
  const fullHeight = rowCount * ROW_HEIGHT;
  const spacerHeight = Math.min(fullHeight, MAX_SCROLL_PX);
  const scaled = fullHeight > MAX_SCROLL_PX;
  const scrollRange = Math.max(1, spacerHeight - view.height);
  const first = Math.max(0, Math.min(rowCount - visibleRows, scaled
    ? Math.floor((view.scrollTop / scrollRange) * (rowCount - visibleRows + 1))
    : Math.floor(view.scrollTop / ROW_HEIGHT)));
  const last = Math.min(rowCount, first + visibleRows) - 1;
  const topOf = (index: number) => (scaled ? view.scrollTop + (index - first) * ROW_HEIGHT : index * ROW_HEIGHT);
  // Scaled, a pixel of scrollbar is a fraction of a row: the arrow keys, Page Up/Down and the mouse
  // wheel move by rows and pages of rows, as they do in a short list (Home and End need nothing).
  const pixelsPerRow = scrollRange / Math.max(1, rowCount - visibleRows + 1);
  const scrollByRows = (element: HTMLDivElement, rows: number) => {
    // From the scroller itself, not the last render: steps faster than React renders add up.
    // The middle of the target row's band of pixels: rounding of scrollTop cannot land on a neighbour.
    const current = Math.floor(element.scrollTop / pixelsPerRow);
    const target = Math.max(0, Math.min(rowCount - visibleRows, current + rows));
    element.scrollTop = (target + 0.5) * pixelsPerRow;
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const steps: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: visibleRows - 1, PageUp: 1 - visibleRows };
    const rows = steps[e.key];
    if (!scaled || rows === undefined) return;
    e.preventDefault();
    scrollByRows(e.currentTarget, rows);
  };
  // React's wheel listener is passive (it cannot prevent the native scroll): one of our own, which
  // reads the latest layout from a ref. Whole rows are moved; what is left of a notch carries over.
  const wheel = useRef({ scaled, scrollByRows, carry: 0 });
  wheel.current.scaled = scaled;
  wheel.current.scrollByRows = scrollByRows;
  useEffect(() => {
    const element = scroller.current;
    if (!element) return undefined;
    const onWheel = (e: WheelEvent) => {
      const state = wheel.current;
      if (!state.scaled || e.ctrlKey || e.deltaY === 0) return;
      e.preventDefault();
      const pixels = e.deltaMode === WheelEvent.DOM_DELTA_LINE ? e.deltaY * ROW_HEIGHT : e.deltaMode === WheelEvent.DOM_DELTA_PAGE ? e.deltaY * element.clientHeight : e.deltaY;
      state.carry += pixels / ROW_HEIGHT;
      const rows = Math.trunc(state.carry);
      state.carry -= rows;
      if (rows !== 0) state.scrollByRows(element, rows);
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    return () => element.removeEventListener('wheel', onWheel);
  }, []);

  useEffect(() => {
    ensure(Math.floor(first / BLOCK_ROWS), Math.floor(Math.max(first, last) / BLOCK_ROWS));
  }, [first, last, ensure, queryKey]);

  const indexes: number[] = [];
  for (let i = first; i <= last; i++) indexes.push(i);
  const loadedOnce = shown.counts !== null;
  const summary = !loadedOnce ? 'Loading…' : rowCount === 0 ? 'Nothing to show.' : `Rows ${(first + 1).toLocaleString()}–${(last + 1).toLocaleString()} of ${shown.total !== null ? shown.total.toLocaleString() : `${shown.rows.toLocaleString()}${shown.more ? ' and more' : ''}`}, oldest first.`;

  return (
    <>
      {/* One line whatever it says: a wrapping summary would resize the list it describes. */}
      <Text size={200} aria-live="polite" className={styles.summary}>
        {shown.counts && <>In the queue: {shown.counts.queued.toLocaleString()} queued, {shown.counts.frozen.toLocaleString()} frozen, {shown.counts.done.toLocaleString()} finished (history). </>}
        {summary}
      </Text>
      {error && <Text role="alert" style={{ color: tokens.colorPaletteRedForeground1 }}>{error}</Text>}
      <div className={styles.table} role="table" aria-label="Queue" aria-rowcount={rowCount + 1}>
        <div className={styles.head} role="row" aria-rowindex={1}>
          {['Queue id and received', 'From', 'Recipients', 'Size', 'State', 'Actions'].map((h) => <div key={h} role="columnheader" className={styles.cell}>{h}</div>)}
        </div>
        <div className={styles.scroller} ref={scroller} onScroll={onScroll} onKeyDown={onKeyDown} tabIndex={0} role="rowgroup" aria-label="Messages, oldest first (arrow keys, Page Up/Down, Home and End scroll)">
          <div style={{ height: spacerHeight, position: 'relative' }}>
            {loadedOnce && rowCount === 0 && <div role="row" className={styles.empty}><Text role="cell" italic>No messages.</Text></div>}
            {indexes.map((index) => {
              const message = row(index);
              return (
                <div key={index} role="row" aria-rowindex={index + 2} className={styles.row} style={{ top: topOf(index) }}>
                  {message ? <QueueRow message={message} onDetails={onDetails} onAction={onAction} /> : <div role="cell" className={mergeClasses(styles.cell, styles.muted)}>Loading row {(index + 1).toLocaleString()}…</div>}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </>
  );
}

function QueueRow({ message: m, onDetails, onAction }: { message: QueueSummary; onDetails: (id: string) => void; onAction: (id: string, action: QueueAction) => void }) {
  const styles = useStyles();
  const [firstRecipient] = m.recipients;
  const others = m.recipients.length - 1;
  const reply = m.recipients.find((r) => r.lastReply && r.state !== 'delivered')?.lastReply ?? null;
  const recipientsTitle = m.recipients.map((r) => `${r.address}: ${r.route}, ${r.state}${r.attempts ? `, ${r.attempts} attempt(s)` : ''}${r.lastReply ? ` — ${r.lastReply}` : ''}`).join('\n');
  return (
    <>
      <div role="cell" className={styles.cell}>
        <span className={mergeClasses(styles.line, styles.mono)}>{m.id}</span>
        <span className={mergeClasses(styles.line, styles.muted)}>{formatTime(m.receivedAt)}</span>
      </div>
      <div role="cell" className={styles.cell} title={m.from || '<>'}>{m.from || '<>'}</div>
      <div role="cell" className={styles.cell} title={recipientsTitle}>
        {firstRecipient && <span className={styles.line}>{firstRecipient.address} · {firstRecipient.route === 'local' ? 'local' : 'remote'} · {firstRecipient.state}{firstRecipient.attempts ? ` · ${firstRecipient.attempts} attempt${firstRecipient.attempts === 1 ? '' : 's'}` : ''}{others > 0 ? ` (+${others} more)` : ''}</span>}
        {reply && <span className={mergeClasses(styles.line, styles.muted)}>{reply}</span>}
      </div>
      <div role="cell" className={styles.cell}>{formatBytes(m.size)}</div>
      <div role="cell" className={styles.cell}>
        <Badge appearance="filled" color={STATUS_PILL[m.status].color} style={{ whiteSpace: 'nowrap' }}>{STATUS_PILL[m.status].label}</Badge>
        {m.state === 'done' && m.body !== 'spool' && <span className={mergeClasses(styles.line, styles.muted)}>{m.body === 'kept' ? 'copy kept' : 'body removed'}</span>}
      </div>
      <div role="cell" className={mergeClasses(styles.cell, styles.actions)}>
        <Button size="small" onClick={() => onDetails(m.id)}>Details</Button>
        {m.state !== 'done' && (
          <Menu>
            <MenuTrigger disableButtonEnhancement>
              <Button size="small" appearance="subtle" icon={<MoreHorizontalRegular />} aria-label={`Actions for ${m.id}`} />
            </MenuTrigger>
            <MenuPopover>
              <MenuList>
                <MenuItem onClick={() => onAction(m.id, 'retry')}>Retry now</MenuItem>
                <MenuItem onClick={() => onAction(m.id, m.state === 'frozen' ? 'thaw' : 'freeze')}>{m.state === 'frozen' ? 'Thaw' : 'Freeze'}</MenuItem>
                <MenuItem onClick={() => onAction(m.id, 'delete-with-report')}>Delete and tell sender</MenuItem>
                <MenuItem onClick={() => onAction(m.id, 'delete')}>Delete</MenuItem>
              </MenuList>
            </MenuPopover>
          </Menu>
        )}
      </div>
    </>
  );
}
