// Current sessions: who is connected right now, over what, as whom; Terminate ends one (421 4.3.2).
import { Button, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import { api } from '../api/client';
import { useApiData } from '../api/hooks';
import { ErrorBar, formatBytes, formatTime, Loading, PageHeader, useUiStyles, VISUALLY_HIDDEN } from '../components/ui';

export function SessionsPage() {
  const ui = useUiStyles();
  const sessions = useApiData(() => api['sessions.list']({}), [], 2000);
  return (
    <div className={ui.page}>
      <PageHeader title="Current sessions" description="Open SMTP connections on every virtual server; refreshed every 2 seconds." />
      <ErrorBar error={sessions.error} />
      {!sessions.data && sessions.loading && <Loading />}
      {sessions.data && (
        <div className={ui.tableWrap}>
          <Table aria-label="Current sessions">
            <TableHeader><TableRow>
              <TableHeaderCell>Client</TableHeaderCell><TableHeaderCell>Server</TableHeaderCell><TableHeaderCell>State</TableHeaderCell><TableHeaderCell>TLS</TableHeaderCell>
              <TableHeaderCell>User</TableHeaderCell><TableHeaderCell>Since</TableHeaderCell><TableHeaderCell>Bytes in / out</TableHeaderCell><TableHeaderCell><span style={VISUALLY_HIDDEN}>Actions</span></TableHeaderCell>
            </TableRow></TableHeader>
            <TableBody>
              {sessions.data.length === 0 && <TableRow><TableCell colSpan={8}><Text italic>No open sessions.</Text></TableCell></TableRow>}
              {sessions.data.map((s) => (
                <TableRow key={s.id}>
                  <TableCell>{s.address}{s.reverseName ? ` (${s.reverseName})` : ''}</TableCell>
                  <TableCell>{s.server}</TableCell>
                  <TableCell>{s.state}{s.messages ? `, ${s.messages} sent` : ''}</TableCell>
                  <TableCell>{s.tlsProtocol ? `${s.tlsProtocol} ${s.tlsCipher ?? ''}` : 'none'}</TableCell>
                  <TableCell>{s.user ? `${s.user} (${s.mechanism ?? ''})` : s.device ? `device: ${s.device}` : '—'}</TableCell>
                  <TableCell>{formatTime(s.startedAt)}</TableCell>
                  <TableCell>{formatBytes(s.bytesIn)} / {formatBytes(s.bytesOut)}</TableCell>
                  <TableCell><Button size="small" onClick={() => void api['sessions.terminate']({ server: s.server, id: s.id }).then(sessions.reload)}>Terminate</Button></TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
    </div>
  );
}
