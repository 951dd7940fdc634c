// Certificate wizard: create a self-signed certificate, create a request for a certification
// authority and complete it with their answer, import PEM or PKCS#12/PFX, or assign a stored
// certificate to a virtual server.
import {
  Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Dropdown, Field, Input, makeStyles,
  MessageBar, MessageBarBody, Option, Radio, RadioGroup, Textarea, tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { CertificateSummary } from '../../server/contract/admin-api';
import { api, errorField, errorMessage } from '../api/client';
import { useApiData } from '../api/hooks';
import { downloadText, FileButton } from '../components/ui';
import { serversChanged, useServers } from '../api/servers';

const useStyles = makeStyles({ form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, minHeight: '260px' } });

type Task = 'create' | 'request' | 'complete' | 'import' | 'pfx' | 'assign';

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
  const [keyType, setKeyType] = useState<'rsa2048' | 'rsa3072' | 'rsa4096' | 'p256' | 'p384'>('rsa2048');
  const [csr, setCsr] = useState<string | null>(null);
  const pending = useApiData(() => api['certificates.requests']({}), []);
  const [pendingChoice, setPendingChoice] = useState<string | null>(null);
  const pendingName = pendingChoice ?? pending.data?.[0]?.name ?? '';
  const [answer, setAnswer] = useState('');
  const [pfx, setPfx] = useState<string | null>(null);
  const [pfxPassword, setPfxPassword] = useState('');
  const altList = () => altNames.split(',').map((s) => s.trim()).filter(Boolean);

  const finish = async () => {
    try {
      const assignTo = server || undefined;
      if (task === 'create') await api['certificates.createSelfSigned']({ name: name || commonName, commonName, altNames: altList(), days: Number(days), assignTo });
      else if (task === 'request') {
        setCsr((await api['certificates.request']({ name: name || commonName, commonName, altNames: altList(), key: keyType })).csrPem);
        setError(null);
        return; // stay open: the request is shown to copy or download
      } else if (task === 'complete') await api['certificates.complete']({ name: pendingName, answer, assignTo });
      else if (task === 'import') await api['certificates.importPem']({ name, keyPem, certPem, assignTo });
      else if (task === 'pfx') await api['certificates.importPfx']({ name, pfxBase64: pfx ?? '', password: pfxPassword, assignTo });
      else await api['servers.update']({ name: server, patch: { certificate: existing } });
      serversChanged();
      onClose(task === 'assign' ? existing : task === 'complete' ? pendingName : name || commonName);
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
                <Radio value="request" label="Create a certificate request for a certification authority" />
                <Radio value="complete" label="Complete a pending request with the authority's answer" disabled={!pending.data?.length} />
                <Radio value="import" label="Import a certificate and its private key (PEM)" />
                <Radio value="pfx" label="Import a PKCS#12 / PFX file (from Windows or another server)" />
                <Radio value="assign" label="Assign an existing certificate" disabled={certificates.length === 0} />
              </RadioGroup>
            )}
            {step === 2 && task === 'request' && (
              <>
                <Field label="Common name (the server's FQDN)" validationMessage={msg('commonName')}><Input value={commonName} onChange={(_e, d) => setCommonName(d.value)} /></Field>
                <Field label="Other names" hint="Comma separated host names or IP addresses"><Input value={altNames} onChange={(_e, d) => setAltNames(d.value)} /></Field>
                <Field label="Key">
                  <Dropdown value={keyType} selectedOptions={[keyType]} onOptionSelect={(_e, d) => setKeyType((d.optionValue ?? 'rsa2048') as typeof keyType)}>
                    <Option value="rsa2048">rsa2048</Option><Option value="rsa3072">rsa3072</Option><Option value="rsa4096">rsa4096</Option><Option value="p256">p256</Option><Option value="p384">p384</Option>
                  </Dropdown>
                </Field>
                <Field label="Name in Relaydesk" hint="Defaults to the common name" validationMessage={msg('name')}><Input value={name} onChange={(_e, d) => setName(d.value)} /></Field>
                {csr && (
                  <Field label="Send this request to your certification authority, then complete it here with their answer">
                    <Textarea readOnly value={csr} rows={6} resize="vertical" />
                  </Field>
                )}
                {csr && <Button onClick={() => downloadText(`${name || commonName}.csr`, csr, 'application/pkcs10')}>Download the request</Button>}
              </>
            )}
            {step === 2 && task === 'complete' && (
              <>
                <Field label="Pending request">
                  <Dropdown value={pendingName} selectedOptions={[pendingName]} onOptionSelect={(_e, d) => setPendingChoice(d.optionValue ?? null)}>
                    {pending.data?.map((r) => <Option key={r.name} value={r.name}>{`${r.name} (${r.commonName})`}</Option>)}
                  </Dropdown>
                </Field>
                <Field label="The authority's answer (PEM certificates in any order, or PKCS#7)" validationMessage={msg('certPem') ?? msg('answer')}>
                  <Textarea value={answer} onChange={(_e, d) => setAnswer(d.value)} rows={6} resize="vertical" />
                </Field>
              </>
            )}
            {step === 2 && task === 'pfx' && (
              <>
                <Field label="Name in Relaydesk" validationMessage={msg('name')}><Input value={name} onChange={(_e, d) => setName(d.value)} /></Field>
                <Field label="PFX file" validationMessage={msg('pfx') ?? msg('pfxBase64')}>
                  <FileButton accept=".pfx,.p12" label="PFX file" onFile={(fileChosen) => {
                    void fileChosen.arrayBuffer().then((buffer) => {
                      let binary = '';
                      new Uint8Array(buffer).forEach((b) => { binary += String.fromCharCode(b); });
                      setPfx(btoa(binary));
                    });
                  }} />
                </Field>
                <Field label="Password of the PFX file" validationMessage={msg('password')}><Input type="password" value={pfxPassword} onChange={(_e, d) => setPfxPassword(d.value)} /></Field>
              </>
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
            {step === 2 && task !== 'request' && (
              <Field label={task === 'assign' ? 'Assign to virtual server' : 'Assign to virtual server (optional)'}>
                <Dropdown value={server || '(do not assign)'} selectedOptions={[server]} onOptionSelect={(_e, d) => setServer(d.optionValue ?? '')}>
                  {task !== 'assign' && <Option value="">(do not assign)</Option>}
                  {servers?.map((s) => <Option key={s.config.name} value={s.config.name}>{s.config.name}</Option>)}
                </Dropdown>
              </Field>
            )}
            {step === 2 && task !== 'request' && <MessageBar intent="info"><MessageBarBody>A running server switches to an assigned certificate at once for new connections; open sessions continue.</MessageBarBody></MessageBar>}
            {error && <MessageBar intent="error"><MessageBarBody>{error.message}</MessageBarBody></MessageBar>}
          </DialogContent>
          <DialogActions>
            <Button onClick={() => onClose()}>Cancel</Button>
            {step === 2 && <Button onClick={() => { setStep(1); setError(null); }}>Back</Button>}
            {step === 1 && <Button appearance="primary" onClick={() => setStep(2)}>Next</Button>}
            {step === 2 && task === 'request' && csr ? <Button appearance="primary" onClick={() => onClose(name || commonName)}>Done</Button>
              : step === 2 && <Button appearance="primary" onClick={() => void finish()}>{task === 'request' ? 'Create request' : 'Finish'}</Button>}
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
