// Import from IIS SMTP: choose MetaBase.xml (or the JSON of iis-export.ps1), see every setting of
// every virtual server (imported as is / with a change / not imported, with why), then import all
// of it atomically. An open relay or a lock-out must be confirmed, as in the property sheets.
import {
  Badge, Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Field, makeStyles, MessageBar, MessageBarBody,
  MessageBarTitle, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { IisImportPreview } from '../../server/contract/admin-api';
import { api, errorMessage } from '../api/client';
import { serversChanged } from '../api/servers';
import { downloadText, FileButton } from '../components/ui';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  table: { maxHeight: '46vh', overflowY: 'auto', border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium },
  cell: { overflowWrap: 'anywhere', verticalAlign: 'top' },
});

const STATUS = { 'as-is': { label: 'as is', color: 'success' }, changed: { label: 'changed', color: 'warning' }, 'not-imported': { label: 'not imported', color: 'danger' } } as const;

export function IisImportWizard({ onClose }: { onClose(created?: string[]): void }) {
  const styles = useStyles();
  const [file, setFile] = useState<{ name: string; content: string } | null>(null);
  const [preview, setPreview] = useState<IisImportPreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);

  const choose = async (chosen: File | undefined) => {
    if (!chosen) return;
    setError(null);
    setPreview(null);
    setConfirming(false);
    const content = await chosen.text();
    setFile({ name: chosen.name, content });
    try {
      setPreview(await api['import.iisPreview']({ content }));
    } catch (err) {
      setError(errorMessage(err).replace(/^file: /, ''));
    }
  };
  const risky = preview?.servers.filter((s) => s.risk) ?? [];
  const apply = async () => {
    if (!file) return;
    if (risky.length > 0 && !confirming) {
      setConfirming(true);
      return;
    }
    setBusy(true);
    try {
      const { created } = await api['import.iisApply']({ content: file.content, confirmRisks: confirming });
      serversChanged();
      onClose(created);
    } catch (err) {
      setError(errorMessage(err).replace(/^\w+: /, ''));
    } finally {
      setBusy(false);
    }
  };
  const script = async () => {
    try {
      downloadText('iis-export.ps1', await api['import.iisScript']({}), 'text/plain');
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) onClose(); }}>
      <DialogSurface aria-label="Import from IIS SMTP" style={{ maxWidth: 1100, width: '92vw' }}>
        <DialogBody>
          <DialogTitle>Import from IIS SMTP</DialogTitle>
          <DialogContent className={styles.stack}>
            <Text>
              Choose the IIS metabase of the old server (<code>%windir%\System32\inetsrv\MetaBase.xml</code>), or the file written there by the export
              script. Every SMTP virtual server in it becomes a Relaydesk virtual server, imported stopped.
            </Text>
            <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'center' }}>
              <Field label="File">
                <FileButton accept=".xml,.json" label="Choose MetaBase.xml or export file" onFile={(chosen) => void choose(chosen)} />
              </Field>
              <Button appearance="subtle" onClick={() => void script()}>Save the export script (iis-export.ps1)</Button>
            </div>
            <Text size={200}>
              Copying MetaBase.xml is awkward, or its lists hold domain names? Run the export script on the IIS machine in an elevated PowerShell
              (<code>powershell -ExecutionPolicy Bypass -File iis-export.ps1 -Out relaydesk-iis.json</code>) and choose that file here.
            </Text>
            {error && <MessageBar intent="error"><MessageBarBody><MessageBarTitle>Nothing was imported</MessageBarTitle>{error}</MessageBarBody></MessageBar>}
            {preview && (
              <>
                <Text weight="semibold">
                  {preview.servers.length} virtual server(s): {preview.servers.map((s) => `${s.name} (${s.listen})`).join(', ')}
                  {preview.domains.length > 0 && `; accepted domains ${preview.domains.map((d) => d.domain).join(', ')}`}
                </Text>
                {risky.map((s) => (
                  <MessageBar key={s.name} intent={confirming ? 'error' : 'warning'}><MessageBarBody><MessageBarTitle>{s.name}: {s.risk?.title}</MessageBarTitle>{s.risk?.why}</MessageBarBody></MessageBar>
                ))}
                <div className={styles.table} tabIndex={0} role="region" aria-label="Settings to import">
                  <Table size="small" aria-label="What is imported">
                    <TableHeader><TableRow>
                      <TableHeaderCell style={{ width: '16%' }}>Virtual server</TableHeaderCell><TableHeaderCell style={{ width: '20%' }}>Setting</TableHeaderCell>
                      <TableHeaderCell style={{ width: '18%' }}>In IIS</TableHeaderCell><TableHeaderCell style={{ width: '18%' }}>In Relaydesk</TableHeaderCell>
                      <TableHeaderCell style={{ width: '28%' }}>Result</TableHeaderCell>
                    </TableRow></TableHeader>
                    <TableBody>
                      {preview.rows.map((row, i) => (
                        <TableRow key={i}>
                          <TableCell className={styles.cell}>{row.server}</TableCell>
                          <TableCell className={styles.cell}>{row.setting}</TableCell>
                          <TableCell className={styles.cell}>{row.iis}</TableCell>
                          <TableCell className={styles.cell}>{row.relaydesk}</TableCell>
                          <TableCell className={styles.cell}>
                            <Badge appearance="tint" color={STATUS[row.status].color}>{STATUS[row.status].label}</Badge>{row.note && <Text size={200} block>{row.note}</Text>}
                          </TableCell>
                        </TableRow>
                      ))}
                    </TableBody>
                  </Table>
                </div>
              </>
            )}
          </DialogContent>
          <DialogActions>
            <Button onClick={() => onClose()}>Cancel</Button>
            <Button appearance="primary" disabled={!preview || busy} onClick={() => void apply()}>{confirming ? 'Import anyway' : 'Import'}</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
