// New virtual server: name, then address and port, then finish. Secure settings are copied from
// the defaults (TLS and authentication required); a duplicate address:port is refused on the page.
import {
  Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Dropdown, Field, Input, makeStyles,
  MessageBar, MessageBarBody, Option, Text, tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { VirtualServerConfig } from '../../server/contract/settings';
import { api, errorField, errorMessage } from '../api/client';
import { serversChanged } from '../api/servers';

const useStyles = makeStyles({ form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, minHeight: '220px' }, step: { color: tokens.colorNeutralForeground3 } });

export function NewServerWizard({ template, onClose }: { template: VirtualServerConfig | undefined; onClose(created?: string): void }) {
  const styles = useStyles();
  const [step, setStep] = useState(1);
  const [name, setName] = useState('');
  const [allAddresses, setAllAddresses] = useState(false);
  const [address, setAddress] = useState('127.0.0.1');
  const [port, setPort] = useState('587');
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);

  const finish = async () => {
    if (!template) return;
    try {
      await api['servers.create']({
        server: {
          ...template, name, bindAddress: allAddresses ? 'all' : address, port: Number(port), tlsPort: null, state: 'started',
          connectionRules: [], relayRules: [], fqdn: template.fqdn,
        },
      });
      serversChanged();
      onClose(name);
    } catch (err) {
      const field = errorField(err);
      setError({ message: errorMessage(err).replace(/^\w+: /, ''), field });
      setStep(field === 'name' ? 1 : 2);
    }
  };

  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) onClose(); }}>
      <DialogSurface aria-label="New SMTP virtual server">
        <DialogBody>
          <DialogTitle>New SMTP virtual server</DialogTitle>
          <DialogContent className={styles.form}>
            <Text size={200} className={styles.step}>Step {step} of 3</Text>
            {step === 1 && (
              <Field label="Name" hint="For example: Scanners, or Submission 587" validationMessage={error?.field === 'name' ? error.message : undefined}>
                <Input autoFocus value={name} onChange={(_e, d) => setName(d.value)} />
              </Field>
            )}
            {step === 2 && (
              <>
                <Field label="IP address">
                  <Dropdown value={allAddresses ? '(All Unassigned)' : 'One address'} selectedOptions={[allAddresses ? 'all' : 'one']} onOptionSelect={(_e, d) => setAllAddresses(d.optionValue === 'all')}>
                    <Option value="one">One address</Option>
                    <Option value="all">(All Unassigned)</Option>
                  </Dropdown>
                </Field>
                {!allAddresses && <Field label="Address" validationMessage={error?.field === 'bindAddress' ? error.message : undefined}><Input value={address} onChange={(_e, d) => setAddress(d.value)} /></Field>}
                <Field label="TCP port" validationMessage={error?.field === 'port' ? error.message : undefined}><Input type="number" value={port} onChange={(_e, d) => setPort(d.value)} /></Field>
              </>
            )}
            {step === 3 && (
              <>
                <Text>Relaydesk will create <b>{name}</b> on {allAddresses ? 'all addresses' : address}, port {port}, and start it.</Text>
                <Text>It starts secure: TLS and authentication required, relay only for signed-in users, with the certificate of the default server. Open it up deliberately in Properties.</Text>
                {error && !error.field && <MessageBar intent="error"><MessageBarBody>{error.message}</MessageBarBody></MessageBar>}
              </>
            )}
          </DialogContent>
          <DialogActions>
            <Button onClick={() => onClose()}>Cancel</Button>
            {step > 1 && <Button onClick={() => setStep(step - 1)}>Back</Button>}
            {step < 3 && <Button appearance="primary" disabled={step === 1 && !name.trim()} onClick={() => { setError(null); setStep(step + 1); }}>Next</Button>}
            {step === 3 && <Button appearance="primary" onClick={() => void finish()}>Finish</Button>}
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
