// The Properties dialog of a virtual server: General, Access, Messages and Delivery tabs, in the
// words of IIS and KB 823019. Edits are a draft until OK or Apply; the server's field errors are
// shown at the field; a change that opens a relay or locks everyone out asks first and says why.
import {
  Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Tab, TabList, Text,
} from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { type AccessSettings, type VirtualServerConfig } from '../../server/contract/settings';
import { api, errorField, errorMessage } from '../api/client';
import { serversChanged } from '../api/servers';
import { ConfirmDialog, useNestedDialog } from '../components/ui';
import { AddressListDialog } from './AddressListDialog';
import { connectionModeSwitchRisk, riskOf } from '../../server/contract/risk';
import { TrustedDevicesDialog } from './TrustedDevicesDialog';
import { usePropertyStyles as useStyles } from './properties/shared';
import { AccessTab, type Editing } from './properties/AccessTab';
import { AuthenticationDialog, CertificateChoiceDialog, CommunicationDialog } from './properties/AccessDialogs';
import { GeneralTab } from './properties/GeneralTab';
import { MessagesTab } from './properties/MessagesTab';
import { DeliveryTab } from './properties/DeliveryTab';

type TabId = 'general' | 'access' | 'messages' | 'delivery';

/**
 * Switching Connection control between "Only the list below" and "All except the list below" with
 * entries turns an allow-list into a deny-list (or back): ask first, with what the simulator says
 * for this machine's own address under the new settings.
 */
async function modeSwitchRisk(saved: VirtualServerConfig, draft: VirtualServerConfig): Promise<{ title: string; why: string } | null> {
  if (!connectionModeSwitchRisk(saved, draft, null)) return null;
  let here = null;
  try {
    const result = await api['policy.simulate']({ server: saved.name, draft, address: '127.0.0.1', tls: true, mailFrom: '', rcptTo: ['postmaster@example.com'] });
    here = result.steps[0]?.decision ?? null;
  } catch { /* the warning stands without the simulator's line */ }
  return connectionModeSwitchRisk(saved, draft, here);
}

export function ServerProperties({ name, onClose }: { name: string; onClose(): void }) {
  const styles = useStyles();
  const [tab, setTab] = useState<TabId>('general');
  const [saved, setSaved] = useState<VirtualServerConfig | null>(null);
  const [draft, setDraft] = useState<VirtualServerConfig | null>(null);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [editing, setEditing] = useNestedDialog<NonNullable<Editing>>();
  const [confirm, setConfirm] = useState<{ title: string; why: string; then: () => void } | null>(null);
  const [busy, setBusy] = useState(false);
  /** What the engine did with the last Apply: listening (where), or cannot listen (why). */
  const [applied, setApplied] = useState<{ ok: true; where: string } | { ok: false; why: string } | null>(null);

  useEffect(() => {
    api['servers.get']({ name }).then((config) => { setSaved(config); setDraft(config); }, (err: unknown) => setError({ message: errorMessage(err) }));
  }, [name]);

  const change = (patch: Partial<VirtualServerConfig>) => setDraft((d) => (d ? { ...d, ...patch } : d));
  // Derived, never remembered: the draft differs from what the store holds.
  const dirty = Boolean(draft && saved && JSON.stringify(draft) !== JSON.stringify(saved));
  const changeAccess = (patch: Partial<AccessSettings>) => setDraft((d) => (d ? { ...d, access: { ...d.access, ...patch } } : d));
  const fieldError = (...fields: string[]) => (error?.field && fields.some((f) => error.field === f || error.field?.startsWith(`${f}.`) || error.field?.startsWith(`${f}[`)) ? error.message.replace(/^[\w.[\]]+: /, '') : undefined);

  const apply = async (close: boolean) => {
    if (!draft || !saved) return;
    const doApply = async () => {
      setBusy(true);
      try {
        const { certificate, ...rest } = draft;
        const updated = await api['servers.update']({ name: saved.name, patch: { ...rest, certificate } });
        setSaved(updated);
        setDraft(updated);
        setError(null);
        serversChanged();
        // Say what the engine did, not what was saved: a port another program holds is not "applied".
        const summary = (await api['servers.list']({})).find((s) => s.config.name === updated.name);
        const failure = summary?.bindFailures[0];
        if (updated.state !== 'stopped' && (!summary?.running) && failure) {
          setApplied({ ok: false, why: `${failure.address === 'all' ? 'all addresses' : failure.address}:${failure.port}: ${failure.message}` });
          return; // the dialog stays open with the reason, even after OK
        }
        setApplied({ ok: true, where: summary?.running ? summary.listening.map((l) => `${l.address === 'all' ? 'all addresses' : l.address}:${l.port}`).join(', ') : 'nowhere (the server is stopped)' });
        if (close) onClose();
      } catch (err) {
        const field = errorField(err);
        setError({ message: errorMessage(err), field });
        if (field) setTab(field.startsWith('messages') ? 'messages' : field.startsWith('delivery') ? 'delivery' : field.startsWith('access') || field.startsWith('connectionRules') || field.startsWith('relayRules') || field === 'certificate' ? 'access' : 'general');
      } finally {
        setBusy(false);
      }
    };
    const risk = riskOf(draft) ?? await modeSwitchRisk(saved, draft);
    if (risk && (!saved || riskOf(saved)?.title !== risk.title)) setConfirm({ ...risk, then: () => void doApply() });
    else await doApply();
  };

  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) onClose(); }}>
      <DialogSurface className={styles.surface} aria-label={`${name} Properties`}>
        <DialogBody>
          <DialogTitle>{name} Properties</DialogTitle>
          <DialogContent className={styles.body}>
            {!draft && !error && <Spinner label="Loading settings…" />}
            {draft && (
              <>
                <TabList selectedValue={tab} onTabSelect={(_e, d) => setTab(d.value as TabId)}>
                  <Tab value="general">General</Tab>
                  <Tab value="access">Access</Tab>
                  <Tab value="messages">Messages</Tab>
                  <Tab value="delivery">Delivery</Tab>
                </TabList>
                {error && !error.field && <MessageBar intent="error"><MessageBarBody>{error.message}</MessageBarBody></MessageBar>}
                {error?.field && <MessageBar intent="error"><MessageBarBody><MessageBarTitle>Not applied</MessageBarTitle>{error.message}</MessageBarBody></MessageBar>}
                {applied && !dirty && (applied.ok
                  ? <MessageBar intent="success"><MessageBarBody>Applied. The server listens on {applied.where} with the new settings.</MessageBarBody></MessageBar>
                  : <MessageBar intent="error"><MessageBarBody><MessageBarTitle>Saved, but the server is not listening</MessageBarTitle>It cannot listen on {applied.why}. Choose another port, or stop the program that holds it; clients cannot connect until then.</MessageBarBody></MessageBar>)}
                {tab === 'general' && <GeneralTab draft={draft} saved={saved} change={change} fieldError={fieldError} />}
                {tab === 'access' && <AccessTab draft={draft} open={setEditing} />}
                {tab === 'messages' && <MessagesTab draft={draft} change={change} fieldError={fieldError} />}
                {tab === 'delivery' && <DeliveryTab draft={draft} change={change} changeAccess={changeAccess} fieldError={fieldError} />}
              </>
            )}
          </DialogContent>
          <DialogActions>
            <Button appearance="primary" disabled={!draft || busy} onClick={() => void apply(true)}>OK</Button>
            <Button onClick={onClose}>Cancel</Button>
            <Button disabled={!draft || busy || !dirty} onClick={() => void apply(false)}>Apply</Button>
          </DialogActions>
        </DialogBody>
        {/* Nested dialogs live inside the parent surface, so the parent is restored when they close. */}
      {draft && editing === 'authentication' && <AuthenticationDialog access={draft.access} onDone={(a) => { changeAccess(a); setEditing(null); }} onCancel={() => setEditing(null)} />}
      {draft && editing === 'communication' && <CommunicationDialog access={draft.access} onDone={(a) => { changeAccess(a); setEditing(null); }} onCancel={() => setEditing(null)} />}
      {draft && editing === 'certificate' && <CertificateChoiceDialog current={draft.certificate} fqdn={draft.fqdn} onDone={(certificate) => { change({ certificate }); setEditing(null); }} onCancel={() => setEditing(null)} />}
      {draft && editing === 'connection' && (
        <AddressListDialog title="Connection" intro="Select which computers may connect to this virtual server." mode={draft.access.connectionMode} rules={draft.connectionRules}
          onDone={(r) => { setDraft({ ...draft, connectionRules: r.rules, access: { ...draft.access, connectionMode: r.mode } }); setEditing(null); }} onCancel={() => setEditing(null)} />
      )}
      {draft && editing === 'relay' && (
        <AddressListDialog title="Relay restrictions" intro="Select which computers may relay through this virtual server (send to domains that are not accepted here)."
          mode={draft.access.relayMode} rules={draft.relayRules} authenticatedRelay={draft.access.relayForAuthenticated}
          onDone={(r) => { setDraft({ ...draft, relayRules: r.rules, access: { ...draft.access, relayMode: r.mode, relayForAuthenticated: Boolean(r.authenticatedRelay) } }); setEditing(null); }} onCancel={() => setEditing(null)} />
      )}
      {draft && editing === 'devices' && (
        <TrustedDevicesDialog devices={draft.access.trustedDevices} onDone={(trustedDevices) => { changeAccess({ trustedDevices }); setEditing(null); }} onCancel={() => setEditing(null)} />
      )}
      {confirm && (
        <ConfirmDialog open title={confirm.title} confirmLabel="Apply anyway" danger onCancel={() => setConfirm(null)} onConfirm={() => { const then = confirm.then; setConfirm(null); then(); }}>
          <Text>{confirm.why}</Text>
        </ConfirmDialog>
      )}
      </DialogSurface>
    </Dialog>
  );
}

