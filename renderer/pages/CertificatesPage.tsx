// Certificates: subject, names, issuer, validity, SHA-256 fingerprint and where each is used,
// with expiry warnings, the Certificate wizard and removal.
import { Badge, Button, MessageBar, MessageBarBody, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import { CertificateRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import { api, errorMessage } from '../api/client';
import { useApiData } from '../api/hooks';
import { ConfirmDialog, ErrorBar, Loading, PageHeader, useUiStyles, VISUALLY_HIDDEN } from '../components/ui';
import { CertificateWizard } from '../wizards/CertificateWizard';

export function CertificatesPage() {
  const ui = useUiStyles();
  const certificates = useApiData(() => api['certificates.list']({}), []);
  const warnings = useApiData(() => api['status.warnings']({}), [], 10_000);
  const [wizard, setWizard] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <div className={ui.page}>
      <PageHeader title="Certificates" description="Certificates for STARTTLS and implicit TLS. Private keys stay in the store.">
        <Button appearance="primary" icon={<CertificateRegular />} onClick={() => setWizard(true)}>Certificate wizard…</Button>
      </PageHeader>
      <ErrorBar error={certificates.error ?? error} />
      {warnings.data?.filter((w) => w.certificate).map((w) => (
        <MessageBar key={w.id} intent="warning"><MessageBarBody>{w.message}</MessageBarBody></MessageBar>
      ))}
      {!certificates.data && certificates.loading && <Loading />}
      {certificates.data && (
        <div className={ui.tableWrap}>
          <Table aria-label="Certificates">
            <TableHeader><TableRow><TableHeaderCell>Name</TableHeaderCell><TableHeaderCell>Names covered</TableHeaderCell><TableHeaderCell>Issuer</TableHeaderCell><TableHeaderCell>Valid until</TableHeaderCell><TableHeaderCell>SHA-256 fingerprint</TableHeaderCell><TableHeaderCell>Used by</TableHeaderCell><TableHeaderCell><span style={VISUALLY_HIDDEN}>Actions</span></TableHeaderCell></TableRow></TableHeader>
            <TableBody>
              {certificates.data.map((c) => (
                <TableRow key={c.name}>
                  <TableCell><Text weight="semibold">{c.name}</Text><div><Text size={200}>{c.keyType}</Text></div></TableCell>
                  <TableCell>{c.altNames.map((n) => n.replace(/^(DNS|IP Address):/, '')).join(', ') || c.subject}</TableCell>
                  <TableCell>{c.selfSigned ? 'Self-signed' : c.issuer}</TableCell>
                  <TableCell>
                    {new Date(c.notAfter).toLocaleDateString()}{' '}
                    {c.daysLeft < 0 ? <Badge color="danger">Expired</Badge> : c.daysLeft < 30 ? <Badge color="warning">{c.daysLeft} days left</Badge> : null}
                  </TableCell>
                  <TableCell><span className={ui.mono}>{c.fingerprintSha256}</span></TableCell>
                  <TableCell>{c.assignedTo.join(', ') || '—'}</TableCell>
                  <TableCell><Button size="small" disabled={c.assignedTo.length > 0} onClick={() => setRemoving(c.name)}>Remove</Button></TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
      {wizard && <CertificateWizard certificates={certificates.data ?? []} onClose={() => { setWizard(false); certificates.reload(); }} />}
      <ConfirmDialog open={removing !== null} title={`Remove ${removing ?? ''}?`} confirmLabel="Remove" danger onCancel={() => setRemoving(null)}
        onConfirm={() => {
          const name = removing as string;
          setRemoving(null);
          api['certificates.remove']({ name }).then(() => { setError(null); certificates.reload(); }, (err: unknown) => setError(errorMessage(err)));
        }}>
        The certificate and its private key are deleted from the store.
      </ConfirmDialog>
    </div>
  );
}
