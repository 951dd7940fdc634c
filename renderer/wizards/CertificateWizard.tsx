// Certificate wizard: create a self-signed certificate, import a PEM key and chain, or assign a
// stored certificate to a virtual server. (Certificate requests and PFX import arrive with the
// certificate work of a later release.)
import {
  Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Dropdown, Field, Input, makeStyles,
  MessageBar, MessageBarBody, Option, Radio, RadioGroup, Textarea, tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { CertificateSummary } from '../../server/contract/admin-api';
import { api, errorField, errorMessage } from '../api/client';
import { serversChanged, useServers } from '../api/servers';

const useStyles = makeStyles({ form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, minHeight: '260px' } });

type Task = 'create' | 'import' | 'assign';

export function CertificateWizard({ certificates, onClose }: { certificates: CertificateSummary[]; onClose(done?: string): void }) {
  const styles = useStyles();
  const { servers } = useServers();
  const [step, setStep] = useState(1);
  const [task, setTask] = useState<Task>('create');
  const [name, setName] = useState('');
  // null = "not chosen yet": follow the first server once the list has loaded.
  const [commonNameInput, setCommonName] = useState<string | null>(null);
  const commonName = commonNameInput ?? servers?.[0]?.config.fqdn ?? '';
  const [altNames, setAltNames] = useState('');
  const [days, setDays] = useState('825');
  const [keyPem, setKeyPem] = useState('');
  const [certPem, setCertPem] = useState('');
  const [existing, setExisting] = useState(certificates[0]?.name ?? '');
  const [serverChoice, setServer] = useState<string | null>(null);
  const server = serverChoice ?? servers?.[0]?.config.name ?? '';
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);

  const finish = async () => {
    try {
      const assignTo = server || undefined;
      if (task === 'create') await api['certificates.createSelfSigned']({ name: name || commonName, commonName, altNames: altNames.split(',').map((s) => s.trim()).filter(Boolean), days: Number(days), assignTo });
      else if (task === 'import') await api['certificates.importPem']({ name, keyPem, certPem, assignTo });
      else await api['servers.update']({ name: server, patch: { certificate: existing } });
      serversChanged();
      onClose(task === 'assign' ? existing : name || commonName);
    } catch (err) {
      setError({ message: errorMessage(err), field: errorField(err) });
    }
  };
  const msg = (field: string) => (error?.field === field ? error.message.replace(/^\w+: /, '') : undefined);

  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) onClose(); }}>
      <DialogSurface aria-label="Certificate wizard">
        <DialogBody>
          <DialogTitle>Certificate wizard</DialogTitle>
          <DialogContent className={styles.form}>
            {step === 1 && (
              <RadioGroup value={task} onChange={(_e, d) => setTask(d.value as Task)} aria-label="What to do">
                <Radio value="create" label="Create a new self-signed certificate" />
                <Radio value="import" label="Import a certificate and its private key (PEM)" />
                <Radio value="assign" label="Assign an existing certificate" disabled={certificates.length === 0} />
              </RadioGroup>
            )}
            {step === 2 && task === 'create' && (
              <>
                <Field label="Common name (the server's FQDN)" validationMessage={msg('commonName')}><Input value={commonName} onChange={(_e, d) => setCommonName(d.value)} /></Field>
                <Field label="Other names" hint="Comma separated host names or IP addresses clients use"><Input value={altNames} onChange={(_e, d) => setAltNames(d.value)} placeholder="smtp.example.com, 192.168.1.10" /></Field>
                <Field label="Valid for (days)" validationMessage={msg('days')}><Input type="number" value={days} onChange={(_e, d) => setDays(d.value)} /></Field>
                <Field label="Name in Relaydesk" hint="Defaults to the common name" validationMessage={msg('name')}><Input value={name} onChange={(_e, d) => setName(d.value)} /></Field>
              </>
            )}
            {step === 2 && task === 'import' && (
              <>
                <Field label="Name in Relaydesk" validationMessage={msg('name')}><Input value={name} onChange={(_e, d) => setName(d.value)} /></Field>
                <Field label="Certificate chain (PEM, server certificate first)" validationMessage={msg('certPem')}><Textarea value={certPem} onChange={(_e, d) => setCertPem(d.value)} resize="vertical" rows={5} /></Field>
                <Field label="Private key (PEM, unencrypted)" validationMessage={msg('keyPem')}><Textarea value={keyPem} onChange={(_e, d) => setKeyPem(d.value)} resize="vertical" rows={5} /></Field>
              </>
            )}
            {step === 2 && task === 'assign' && (
              <Field label="Certificate">
                <Dropdown value={existing} selectedOptions={[existing]} onOptionSelect={(_e, d) => setExisting(d.optionValue ?? '')}>
                  {certificates.map((c) => <Option key={c.name} value={c.name}>{c.name}</Option>)}
                </Dropdown>
              </Field>
            )}
            {step === 2 && (
              <Field label={task === 'assign' ? 'Assign to virtual server' : 'Assign to virtual server (optional)'}>
                <Dropdown value={server || '(do not assign)'} selectedOptions={[server]} onOptionSelect={(_e, d) => setServer(d.optionValue ?? '')}>
                  {task !== 'assign' && <Option value="">(do not assign)</Option>}
                  {servers?.map((s) => <Option key={s.config.name} value={s.config.name}>{s.config.name}</Option>)}
                </Dropdown>
              </Field>
            )}
            {step === 2 && <MessageBar intent="info"><MessageBarBody>A running server switches to an assigned certificate at once for new connections; open sessions continue.</MessageBarBody></MessageBar>}
            {error && <MessageBar intent="error"><MessageBarBody>{error.message}</MessageBarBody></MessageBar>}
          </DialogContent>
          <DialogActions>
            <Button onClick={() => onClose()}>Cancel</Button>
            {step === 2 && <Button onClick={() => { setStep(1); setError(null); }}>Back</Button>}
            {step === 1 ? <Button appearance="primary" onClick={() => setStep(2)}>Next</Button> : <Button appearance="primary" onClick={() => void finish()}>Finish</Button>}
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
