// New virtual server: name and purpose, then address and port (and, for devices, the device),
// then finish. For users, secure settings are copied from the defaults (TLS and authentication
// required). "For devices that cannot sign in" makes a listener of its own that admits only the
// chosen device (connection control), lets it send without AUTH, and only there may allow old
// TLS 1.0/1.1; the users' server stays strong. A duplicate address:port is refused on the page.
import {
  Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Dropdown, Field, Input, makeStyles,
  Checkbox, MessageBar, MessageBarBody, Option, Radio, RadioGroup, Text, tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { VirtualServerConfig, VirtualServerInput } from '../../server/contract/settings';
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
  const [purpose, setPurpose] = useState<'users' | 'devices'>('users');
  const [device, setDevice] = useState({ name: '', address: '', sender: '', legacyTls: false, noTls: false });
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);

  /** The server for devices: only the device may connect, it sends without AUTH, nobody signs in here. */
  const forDevices = async (base: VirtualServerInput): Promise<VirtualServerInput> => {
    const match = await api['servers.validateRule']({ text: device.address }).catch((err: unknown) => {
      throw Object.assign(new Error(device.address.trim() ? errorMessage(err).replace(/^[\w.]+: /, '') : 'give the device\'s address or subnet'), { field: 'device' });
    });
    if (match.kind === 'domain') throw Object.assign(new Error('give the device\'s address or subnet (192.0.2.20, 192.0.2.0/24)'), { field: 'device' });
    return {
      ...base, connectionRules: [match],
      access: {
        ...base.access, anonymous: false, basicAuth: false, cramMd5: false, connectionMode: 'only-list', relayMode: 'only-list', relayForAuthenticated: false,
        requireStrongEncryption: !device.legacyTls, allowLegacyTls: device.legacyTls,
        trustedDevices: [{ name: device.name.trim() || 'Device', match, senders: device.sender.trim() ? [device.sender.trim()] : [], recipientDomains: [], perHour: null, allowWithoutTls: device.noTls }],
      },
    };
  };

  const finish = async () => {
    if (!template) return;
    try {
      const base: VirtualServerInput = {
        ...template, name, bindAddress: allAddresses ? 'all' : address, port: Number(port), tlsPort: null, state: 'started',
        connectionRules: [], relayRules: [], fqdn: template.fqdn, access: { ...template.access, trustedDevices: [] },
      };
      await api['servers.create']({ server: purpose === 'devices' ? await forDevices(base) : base });
      serversChanged();
      onClose(name);
    } catch (err) {
      const field = (err as { field?: string }).field ?? errorField(err);
      setError({ message: errorMessage(err).replace(/^[\w.]+: /, ''), field });
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
              <>
                <Field label="Name" hint="For example: Scanners, or Submission 587" validationMessage={error?.field === 'name' ? error.message : undefined}>
                  <Input autoFocus value={name} onChange={(_e, d) => setName(d.value)} />
                </Field>
                <Field label="Who will send through it">
                  <RadioGroup value={purpose} onChange={(_e, d) => setPurpose(d.value as 'users' | 'devices')}>
                    <Radio value="users" label="Users who sign in (PCs, phones, applications with a password)" />
                    <Radio value="devices" label="For devices that cannot sign in (a scanner, a printer, an old application)" />
                  </RadioGroup>
                </Field>
              </>
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
                {purpose === 'devices' && (
                  <>
                    <Field label="Device name"><Input value={device.name} placeholder="Reception printer" onChange={(_e, d) => setDevice({ ...device, name: d.value })} /></Field>
                    <Field label="Device address or subnet" hint="Only this device may connect to the new server" validationMessage={error?.field?.startsWith('device') || error?.field?.startsWith('access') || error?.field?.startsWith('connectionRules') ? error.message : undefined}>
                      <Input value={device.address} placeholder="192.0.2.20" onChange={(_e, d) => setDevice({ ...device, address: d.value })} />
                    </Field>
                    <Field label="The sender address it uses" hint="Any other sender is refused"><Input value={device.sender} placeholder="scanner@example.com" onChange={(_e, d) => setDevice({ ...device, sender: d.value })} /></Field>
                    <Checkbox label="It speaks only TLS 1.0 or 1.1" checked={device.legacyTls} onChange={(_e, d) => setDevice({ ...device, legacyTls: Boolean(d.checked) })} />
                    <Checkbox label="It cannot do TLS at all" checked={device.noTls} onChange={(_e, d) => setDevice({ ...device, noTls: Boolean(d.checked) })} />
                    {(device.legacyTls || device.noTls) && (
                      <MessageBar intent="warning"><MessageBarBody>
                        {device.noTls ? 'The device\'s mail will cross the network in clear. ' : 'TLS 1.0 and 1.1 are broken and retired. '}
                        Only this device may connect to the new server, nobody signs in there, and your users' server keeps strong encryption. Replace the device when you can.
                      </MessageBarBody></MessageBar>
                    )}
                  </>
                )}
              </>
            )}
            {step === 3 && (
              <>
                <Text>Relaydesk will create <b>{name}</b> on {allAddresses ? 'all addresses' : address}, port {port}, and start it.</Text>
                {purpose === 'users'
                  ? <Text>It starts secure: TLS and authentication required, relay only for signed-in users, with the certificate of the default server. Open it up deliberately in Properties.</Text>
                  : <Text>Only <b>{device.name || 'the device'}</b> ({device.address}) may connect; it sends without signing in{device.sender ? ` and only as ${device.sender}` : ''}; nobody signs in to this server{device.legacyTls ? '; TLS 1.0/1.1 are accepted here only' : ''}. Add more devices under Properties → Access → Trusted devices.</Text>}
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
