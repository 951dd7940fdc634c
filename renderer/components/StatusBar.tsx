// Status bar: servers running, sessions now, messages accepted since start, and warnings
// (certificate expiry, a port that cannot be bound, low disk space, a lost smart host sign-in).
import { Badge, Link, makeStyles, Text, tokens } from '@fluentui/react-components';
import { WarningRegular } from '@fluentui/react-icons';
import { api } from '../api/client';
import { useApiData } from '../api/hooks';
import { serverState, useServers } from '../api/servers';

const useStyles = makeStyles({
  bar: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalXL, height: '32px', padding: `0 ${tokens.spacingHorizontalL}`, borderTop: `1px solid ${tokens.colorNeutralStroke2}`, backgroundColor: tokens.colorNeutralBackground3, fontSize: tokens.fontSizeBase200, overflow: 'hidden', whiteSpace: 'nowrap' },
  warning: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalXS, color: tokens.colorPaletteDarkOrangeForeground1 },
});

export function StatusBar() {
  const styles = useStyles();
  const { servers } = useServers();
  const counters = useApiData(() => api['counters.get']({}), [], 2000);
  const sessions = useApiData(() => api['sessions.list']({}), [], 2000);
  const certificates = useApiData(() => api['certificates.list']({}), [], 60_000);
  const active = useApiData(() => api['status.warnings']({}), [], 5000);
  const running = servers?.filter((s) => serverState(s) === 'running').length ?? 0;
  const messages = Object.values(counters.data?.perServer ?? {}).reduce((sum, s) => sum + s.messagesAccepted, 0);
  const warnings: string[] = [];
  for (const s of servers ?? []) if (serverState(s) === 'failed') warnings.push(`${s.config.name}: ${s.bindFailures[0]?.message ?? 'cannot listen'}`);
  // Observed by the engine: low disk space, a lost or failing sign-in, failed mail, certificate problems.
  const links: Array<{ text: string; href: string }> = [];
  for (const w of active.data ?? []) {
    if (w.link) links.push({ text: w.message, href: `#/${w.link.replace('?status=', '/')}` });
    else warnings.push(w.message);
  }
  for (const c of certificates.data ?? []) {
    if (c.assignedTo.length && c.daysLeft < 30) warnings.push(c.daysLeft < 0 ? `Certificate ${c.name} has expired` : `Certificate ${c.name} expires in ${c.daysLeft} days`);
  }
  return (
    <div className={styles.bar} role="status">
      <Text size={200}>Servers running: <b>{running}</b> of {servers?.length ?? 0}</Text>
      <Text size={200}>Sessions now: <b>{sessions.data?.length ?? 0}</b></Text>
      <Text size={200}>Messages accepted since start: <b>{messages}</b></Text>
      {warnings.length + links.length > 0 ? (
        <span className={styles.warning} title={[...warnings, ...links.map((l) => l.text)].join('\n')}>
          <WarningRegular /> <Text size={200}>{warnings.length + links.length} warning{warnings.length + links.length === 1 ? '' : 's'}: {warnings.join(' · ')}</Text>
          {links.map((l) => <Link key={l.text} href={l.href} style={{ fontSize: tokens.fontSizeBase200 }}>{l.text}</Link>)}
        </span>
      ) : <Badge appearance="ghost" color="success">No warnings</Badge>}
    </div>
  );
}
