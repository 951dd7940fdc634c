// Virtual servers: state, listeners and sessions of each, with Start/Stop/Pause/Properties and
// the New virtual server wizard and the import from IIS SMTP.
import { Badge, Button, Link, Menu, MenuItem, MenuList, MenuPopover, MenuTrigger, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow } from '@fluentui/react-components';
import { AddRegular, MoreHorizontalRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import { navigate, routeHref } from '../App';
import { serverState, serversChanged, setServerState, useServers } from '../api/servers';
import { api, errorMessage } from '../api/client';
import { STATE_BADGE } from '../components/ServerNav';
import { ConfirmDialog, ErrorBar, Loading, PageHeader, useUiStyles, VISUALLY_HIDDEN } from '../components/ui';
import { ServerProperties } from '../sheets/ServerProperties';
import { NewServerWizard } from '../wizards/NewServerWizard';
import { IisImportWizard } from '../wizards/IisImportWizard';

export function ServersPage() {
  const styles = useUiStyles();
  const { servers, error } = useServers();
  const [wizard, setWizard] = useState(false);
  const [importing, setImporting] = useState(false);
  const [properties, setProperties] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<{ name: string; queued: number; finished: number; events: number } | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const askDelete = async (name: string) => {
    try {
      setDeleting({ name, ...(await api['servers.dependents']({ name })) });
    } catch (err) {
      setActionError(errorMessage(err));
    }
  };
  const confirmDelete = async () => {
    const name = deleting?.name;
    setDeleting(null);
    if (!name) return;
    try {
      await api['servers.delete']({ name });
      serversChanged();
    } catch (err) {
      setActionError(errorMessage(err));
    }
  };
  return (
    <div className={styles.page}>
      <PageHeader title="Virtual servers" description="Each virtual server listens on its own address and port, with its own access, message and delivery settings.">
        <Button appearance="primary" icon={<AddRegular />} onClick={() => setWizard(true)}>New virtual server…</Button>
        <Button onClick={() => setImporting(true)}>Import from IIS SMTP…</Button>
      </PageHeader>
      <ErrorBar error={error ?? actionError} />
      {deleting && (
        <ConfirmDialog open title={`Delete ${deleting.name}?`} confirmLabel="Delete" danger onCancel={() => setDeleting(null)} onConfirm={() => void confirmDelete()}>
          The virtual server stops and is removed with its settings{deleting.queued > 0 ? `, its ${deleting.queued} message(s) still waiting in the queue (not delivered, senders not told)` : ''}
          {deleting.finished > 0 ? `, the records of ${deleting.finished} finished message(s)` : ''}{deleting.events > 0 ? ` and its log history (${deleting.events} events)` : ' and its log history'}. This cannot be undone.
        </ConfirmDialog>
      )}
      {!servers && !error && <Loading />}
      {servers && (
        <div className={styles.tableWrap}>
          <Table aria-label="Virtual servers">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Name</TableHeaderCell><TableHeaderCell>State</TableHeaderCell><TableHeaderCell>Listening on</TableHeaderCell>
                <TableHeaderCell>FQDN</TableHeaderCell><TableHeaderCell>Security</TableHeaderCell><TableHeaderCell>Sessions</TableHeaderCell><TableHeaderCell><span style={VISUALLY_HIDDEN}>Actions</span></TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {servers.map((s) => {
                const state = serverState(s);
                const a = s.config.access;
                // Observed listeners only: a configured port nobody listens on is not shown as one.
                const listening = s.listening.length ? s.listening.map((l) => `${l.address === 'all' ? '*' : l.address}:${l.port} (${l.mode})`).join(', ') : `not listening (configured: ${s.config.bindAddress === 'all' ? '*' : s.config.bindAddress}:${s.config.port})`;
                return (
                  <TableRow key={s.config.name}>
                    <TableCell><Link href={routeHref({ page: 'server', name: s.config.name })}>{s.config.name}</Link></TableCell>
                    <TableCell><Badge color={STATE_BADGE[state].color} appearance="tint">{STATE_BADGE[state].label}</Badge>{state === 'failed' && <div>{s.bindFailures[0]?.message}</div>}</TableCell>
                    <TableCell>{listening}</TableCell>
                    <TableCell>{s.config.fqdn}</TableCell>
                    <TableCell>{[a.requireSecureChannel ? 'TLS required' : 'TLS optional', a.anonymous ? 'anonymous' : 'sign-in required'].join(', ')}</TableCell>
                    <TableCell>{s.sessions}</TableCell>
                    <TableCell>
                      <Menu>
                        <MenuTrigger disableButtonEnhancement><Button appearance="subtle" icon={<MoreHorizontalRegular />} aria-label={`Actions for ${s.config.name}`} /></MenuTrigger>
                        <MenuPopover><MenuList>
                          <MenuItem disabled={state === 'running'} onClick={() => void setServerState(s.config.name, 'started')}>Start</MenuItem>
                          <MenuItem disabled={state === 'stopped'} onClick={() => void setServerState(s.config.name, 'stopped')}>Stop</MenuItem>
                          <MenuItem disabled={state !== 'running'} onClick={() => void setServerState(s.config.name, 'paused')}>Pause</MenuItem>
                          <MenuItem onClick={() => setProperties(s.config.name)}>Properties</MenuItem>
                          <MenuItem onClick={() => void askDelete(s.config.name)}>Delete…</MenuItem>
                        </MenuList></MenuPopover>
                      </Menu>
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        </div>
      )}
      {importing && <IisImportWizard onClose={(created) => { setImporting(false); if (created?.[0]) navigate({ page: 'server', name: created[0] }); }} />}
      {wizard && <NewServerWizard template={servers?.[0]?.config} onClose={(created) => { setWizard(false); if (created) navigate({ page: 'server', name: created }); }} />}
      {properties && <ServerProperties name={properties} onClose={() => setProperties(null)} />}
    </div>
  );
}
