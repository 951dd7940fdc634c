// One virtual server: what it is doing, its settings at a glance, and the actions.
import { Badge, Button, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, Text, tokens } from '@fluentui/react-components';
import { PauseRegular, PlayRegular, SettingsRegular, StopRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import { serverState, setServerState, useServers } from '../api/servers';
import { api } from '../api/client';
import { useApiData } from '../api/hooks';
import { STATE_BADGE } from '../components/ServerNav';
import { ErrorBar, formatBytes, Loading, PageHeader, useUiStyles } from '../components/ui';
import { ServerProperties } from '../sheets/ServerProperties';

const useStyles = makeStyles({
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(280px, 1fr))', gap: tokens.spacingHorizontalL },
  dl: { display: 'grid', gridTemplateColumns: 'auto 1fr', gap: `4px ${tokens.spacingHorizontalM}`, margin: 0, '& dt': { color: tokens.colorNeutralForeground3 }, '& dd': { margin: 0 } },
});

export function ServerPage({ name }: { name: string }) {
  const ui = useUiStyles();
  const styles = useStyles();
  const { servers, error } = useServers();
  const [properties, setProperties] = useState(false);
  const warnings = useApiData(() => api['status.warnings']({}), [name], 10_000);
  const summary = servers?.find((s) => s.config.name === name);
  if (!servers) return <div className={ui.page}><ErrorBar error={error} />{!error && <Loading />}</div>;
  if (!summary) return <div className={ui.page}><ErrorBar error={`No virtual server named "${name}".`} /></div>;
  const state = serverState(summary);
  const { config } = summary;
  const a = config.access;
  const m = config.messages;
  return (
    <div className={ui.page}>
      <PageHeader title={config.name} description={`${config.fqdn} · ${config.bindAddress === 'all' ? 'all addresses' : config.bindAddress}, port ${config.port}${config.tlsPort !== null ? ` and ${config.tlsPort} (implicit TLS)` : ''}`}>
        <Badge size="large" color={STATE_BADGE[state].color} appearance="tint">{STATE_BADGE[state].label}</Badge>
        <Button icon={<PlayRegular />} disabled={state === 'running'} onClick={() => void setServerState(name, 'started')}>Start</Button>
        <Button icon={<PauseRegular />} disabled={state !== 'running'} onClick={() => void setServerState(name, 'paused')}>Pause</Button>
        <Button icon={<StopRegular />} disabled={state === 'stopped'} onClick={() => void setServerState(name, 'stopped')}>Stop</Button>
        <Button appearance="primary" icon={<SettingsRegular />} onClick={() => setProperties(true)}>Properties</Button>
      </PageHeader>
      {state === 'failed' && (
        <MessageBar intent="error">
          <MessageBarBody>
            <MessageBarTitle>Not listening: clients cannot connect</MessageBarTitle>
            {summary.bindFailures.map((f) => `${f.address}:${f.port}: ${f.message}`).join('; ')}.{' '}
            {summary.bindRetrySeconds !== null
              ? `Relaydesk tries again every ${summary.bindRetrySeconds} seconds and listens as soon as it can. To fix it now, stop the program that holds the port, or choose another port or address in Properties.`
              : 'Fix it in Properties, then press Start.'}
          </MessageBarBody>
        </MessageBar>
      )}
      {warnings.data?.filter((w) => w.server === config.name).map((w) => (
        <MessageBar key={w.id} intent="warning"><MessageBarBody>{w.message}{w.action ? ` ${w.action}` : ''}</MessageBarBody></MessageBar>
      ))}
      <div className={styles.grid}>
        <section className={ui.card} aria-label="Listeners">
          <Text weight="semibold">Listening</Text>
          {summary.listening.length === 0 ? <Text>Not listening.</Text> : summary.listening.map((l) => <Text key={l.port}>{l.address === 'all' ? 'all addresses' : l.address}:{l.port} — {l.mode === 'starttls' ? 'SMTP with STARTTLS' : 'implicit TLS (SMTPS)'}</Text>)}
          <Text>{summary.sessions} session{summary.sessions === 1 ? '' : 's'} open</Text>
        </section>
        <section className={ui.card} aria-label="Access">
          <Text weight="semibold">Access</Text>
          <dl className={styles.dl}>
            <dt>Authentication</dt><dd>{[a.anonymous && 'anonymous', a.basicAuth && 'basic', a.cramMd5 && 'CRAM-MD5'].filter(Boolean).join(', ') || 'none'}</dd>
            <dt>TLS</dt><dd>{a.requireSecureChannel ? 'required' : 'optional'}, {a.requireStrongEncryption ? 'strong encryption' : 'TLS 1.2+'}</dd>
            <dt>Certificate</dt><dd>{config.certificate ?? 'none'}</dd>
            <dt>Connection</dt><dd>{a.connectionMode === 'only-list' ? 'only' : 'all except'} {config.connectionRules.length} listed</dd>
            <dt>Relay</dt><dd>{a.relayMode === 'only-list' ? 'only' : 'all except'} {config.relayRules.length} listed{a.relayForAuthenticated ? ', and signed-in users' : ''}</dd>
          </dl>
        </section>
        <section className={ui.card} aria-label="Messages">
          <Text weight="semibold">Messages</Text>
          <dl className={styles.dl}>
            <dt>Message size</dt><dd>{m.maxMessageBytes === null ? 'no limit' : formatBytes(m.maxMessageBytes)}</dd>
            <dt>Session size</dt><dd>{m.maxSessionBytes === null ? 'no limit' : formatBytes(m.maxSessionBytes)}</dd>
            <dt>Per connection</dt><dd>{m.maxMessagesPerConnection ?? 'no limit'} messages</dd>
            <dt>Recipients</dt><dd>{m.maxRecipientsPerMessage ?? 'no limit'} per message</dd>
          </dl>
        </section>
      </div>
      {properties && <ServerProperties name={name} onClose={() => setProperties(false)} />}
    </div>
  );
}
