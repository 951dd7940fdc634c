// Status bar: servers running, sessions now, messages accepted since start, and warnings
// (a port that cannot be bound, low disk space, a lost smart host sign-in, failed mail, certificate
// problems of running servers), all as the engine observed them.
import { Badge, Button, Link, makeStyles, Popover, PopoverSurface, PopoverTrigger, Text, tokens } from '@fluentui/react-components';
import { WarningRegular } from '@fluentui/react-icons';
import { useEffect, useState } from 'react';
import { api } from '../api/client';
import { useApiData } from '../api/hooks';
import { serverState, useServers } from '../api/servers';

const useStyles = makeStyles({
  bar: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalXL, height: '32px', padding: `0 ${tokens.spacingHorizontalL}`, borderTop: `1px solid ${tokens.colorNeutralStroke2}`, backgroundColor: tokens.colorNeutralBackground3, fontSize: tokens.fontSizeBase200, overflow: 'hidden', whiteSpace: 'nowrap' },
  counter: { flexShrink: 0 },
  // The warnings take what is left of the line and end in an ellipsis; the full text is the tooltip
  // and each warning is also shown on the page it concerns.
  warning: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalXS, color: tokens.colorPaletteDarkOrangeForeground1, minWidth: 0, flex: '1 1 auto', overflow: 'hidden' },
  warningText: { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', minWidth: 0 },
  icon: { flexShrink: 0 },
  count: { flexShrink: 0, minWidth: 0, padding: '0 2px', color: 'inherit', fontSize: tokens.fontSizeBase200 },
  surface: { maxWidth: '640px', maxHeight: '50vh', overflowY: 'auto', whiteSpace: 'normal', fontSize: tokens.fontSizeBase200 },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalL, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
});

export function StatusBar() {
  const styles = useStyles();
  const { servers } = useServers();
  const counters = useApiData(() => api['counters.get']({}), [], 2000);
  const sessions = useApiData(() => api['sessions.list']({}), [], 2000);
  const active = useApiData(() => api['status.warnings']({}), [], 5000);
  const running = servers?.filter((s) => serverState(s) === 'running').length ?? 0;
  const messages = Object.values(counters.data?.perServer ?? {}).reduce((sum, s) => sum + s.messagesAccepted, 0);
  // In order of harm: a server that cannot listen, then what the engine observed (disk space,
  // a lost or failing sign-in, failed mail, certificate problems).
  const items: Array<{ text: string; href?: string }> = [];
  for (const s of servers ?? []) if (serverState(s) === 'failed') items.push({ text: `${s.config.name}: ${s.bindFailures[0]?.message ?? 'cannot listen'}` });
  for (const w of active.data ?? []) items.push(w.link ? { text: w.message, href: `#/${w.link.replace('?status=', '/')}` } : { text: w.message });
  const first = items[0];
  // The list closes when the admin goes to another page (a link in it, or the navigation).
  const [listOpen, setListOpen] = useState(false);
  useEffect(() => {
    const close = () => setListOpen(false);
    window.addEventListener('hashchange', close);
    return () => window.removeEventListener('hashchange', close);
  }, []);
  return (
    <div className={styles.bar} role="status">
      <Text size={200} wrap={false} className={styles.counter}>Servers running: <b>{running}</b> of {servers?.length ?? 0}</Text>
      <Text size={200} wrap={false} className={styles.counter}>Sessions now: <b>{sessions.data?.length ?? 0}</b></Text>
      <Text size={200} wrap={false} className={styles.counter}>Messages accepted since start: <b>{messages}</b></Text>
      {first ? (
        <span className={styles.warning}>
          <WarningRegular className={styles.icon} />
          {/* The whole list is one click away; the first (most harmful) one is on the bar itself. */}
          <Popover inline positioning={{ position: 'above', align: 'start', strategy: 'fixed' }} withArrow open={listOpen} onOpenChange={(_e, d) => setListOpen(d.open)}>
            <PopoverTrigger disableButtonEnhancement>
              <Button size="small" appearance="transparent" className={styles.count}>{items.length} warning{items.length === 1 ? '' : 's'}</Button>
            </PopoverTrigger>
            <PopoverSurface aria-label="Warnings" className={styles.surface}>
              <ul className={styles.list}>
                {items.map((item) => <li key={item.text}>{item.href ? <Link href={item.href}>{item.text}</Link> : item.text}</li>)}
              </ul>
            </PopoverSurface>
          </Popover>
          {first.href
            ? <Link href={first.href} className={styles.warningText} title={first.text} style={{ fontSize: tokens.fontSizeBase200 }}>{first.text}</Link>
            : <Text size={200} className={styles.warningText} title={first.text}>{first.text}</Text>}
        </span>
      ) : <Badge appearance="ghost" color="success">No warnings</Badge>}
    </div>
  );
}
