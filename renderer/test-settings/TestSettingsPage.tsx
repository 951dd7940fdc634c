// Test settings (KB 823019, "test your settings"): the policy simulator, step by step with the
// deciding rule, and the self-probe with a pass/fail list and what to change for each failure.
import { Badge, Button, Checkbox, Dropdown, Field, Input, makeStyles, Option, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, tokens } from '@fluentui/react-components';
import { CheckmarkCircleFilled, DismissCircleFilled } from '@fluentui/react-icons';
import { useState } from 'react';
import type { ProbeReport, RouteTestReport, SimulationResult } from '../../server/contract/admin-api';
import { api, errorField, errorMessage } from '../api/client';
import { useApiData } from '../api/hooks';
import { useServers } from '../api/servers';
import { ErrorBar, PageHeader, useUiStyles } from '../components/ui';

const useStyles = makeStyles({
  columns: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(420px, 1fr))', gap: tokens.spacingHorizontalXL, alignItems: 'start' },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, '& > button': { alignSelf: 'flex-start' } },
  row: { display: 'flex', gap: tokens.spacingHorizontalM, flexWrap: 'wrap', alignItems: 'flex-end' },
  pass: { color: tokens.colorPaletteGreenForeground1 },
  fail: { color: tokens.colorPaletteRedForeground1 },
  check: { display: 'grid', gridTemplateColumns: '24px 1fr', gap: tokens.spacingHorizontalS, padding: `${tokens.spacingVerticalS} 0`, borderBottom: `1px solid ${tokens.colorNeutralStroke3}` },
});

export function TestSettingsPage() {
  const ui = useUiStyles();
  const styles = useStyles();
  const { servers } = useServers();
  const users = useApiData(() => api['users.list']({}), []);
  const [server, setServer] = useState('');
  const chosen = server || servers?.[0]?.config.name || '';
  const [address, setAddress] = useState('192.168.1.50');
  const [reverseName, setReverseName] = useState('');
  const [user, setUser] = useState('');
  const [tls, setTls] = useState(true);
  const [mailFrom, setMailFrom] = useState('scanner@example.com');
  const [rcptTo, setRcptTo] = useState('office@example.com, someone@elsewhere.net');
  const [simulation, setSimulation] = useState<SimulationResult | null>(null);
  const [simError, setSimError] = useState<{ message: string; field?: string } | null>(null);
  const [probeUser, setProbeUser] = useState('');
  const [probePassword, setProbePassword] = useState('');
  const [probe, setProbe] = useState<ProbeReport | null>(null);
  const [probing, setProbing] = useState(false);
  const [probeError, setProbeError] = useState<string | null>(null);

  const simulate = async () => {
    try {
      setSimulation(await api['policy.simulate']({ server: chosen, address, reverseName: reverseName || undefined, user: user || undefined, tls, mailFrom, rcptTo: rcptTo.split(',').map((s) => s.trim()).filter(Boolean) }));
      setSimError(null);
    } catch (err) {
      setSimError({ message: errorMessage(err), field: errorField(err) });
    }
  };
  const runProbe = async () => {
    setProbing(true);
    setProbe(null);
    try {
      setProbe(await api['probe.run']({ server: chosen, ...(probeUser ? { user: probeUser, password: probePassword } : {}) }));
      setProbeError(null);
    } catch (err) {
      setProbeError(errorMessage(err));
    } finally {
      setProbing(false);
    }
  };
  const fieldMessage = (field: string) => (simError?.field?.startsWith(field) ? simError.message.replace(/^[\w.[\]]+: /, '') : undefined);

  return (
    <div className={ui.page}>
      <PageHeader title="Test settings" description="Check what the server would answer a client, and probe it over the network from this machine.">
        <Field label="Virtual server">
          <Dropdown value={chosen} selectedOptions={[chosen]} onOptionSelect={(_e, d) => setServer(d.optionValue ?? '')}>
            {servers?.map((s) => <Option key={s.config.name} value={s.config.name}>{s.config.name}</Option>)}
          </Dropdown>
        </Field>
      </PageHeader>
      <div className={styles.columns}>
        <section className={ui.card} aria-label="Policy simulator">
          <Text weight="semibold" size={400}>Policy simulator</Text>
          <Text size={200}>The same decisions the server makes, step by step, with the rule that decided. Credentials are taken as correct.</Text>
          <div className={styles.form}>
            <div className={styles.row}>
              <Field label="Client address" validationMessage={fieldMessage('address')}><Input value={address} onChange={(_e, d) => setAddress(d.value)} /></Field>
              <Field label="Reverse DNS name (optional)"><Input value={reverseName} onChange={(_e, d) => setReverseName(d.value)} placeholder="pc7.office.example" /></Field>
            </div>
            <div className={styles.row}>
              <Field label="Signs in as" validationMessage={fieldMessage('user')}>
                <Dropdown value={user || '(not signed in)'} selectedOptions={[user]} onOptionSelect={(_e, d) => setUser(d.optionValue ?? '')}>
                  <Option value="">(not signed in)</Option>
                  {users.data?.map((u) => <Option key={u.name} value={u.name}>{u.name}</Option>)}
                </Dropdown>
              </Field>
              <Checkbox label="Uses STARTTLS" checked={tls} onChange={(_e, d) => setTls(Boolean(d.checked))} />
            </div>
            <Field label="MAIL FROM" validationMessage={fieldMessage('mailFrom')}><Input value={mailFrom} onChange={(_e, d) => setMailFrom(d.value)} /></Field>
            <Field label="RCPT TO (comma separated)" validationMessage={fieldMessage('rcptTo')}><Input value={rcptTo} onChange={(_e, d) => setRcptTo(d.value)} /></Field>
            <Button appearance="primary" onClick={() => void simulate()} disabled={!chosen}>Simulate</Button>
            {simError && !simError.field && <ErrorBar error={simError.message} />}
          </div>
          {simulation && (
            <Table size="small" aria-label="Simulated session">
              <TableHeader><TableRow><TableHeaderCell>Step</TableHeaderCell><TableHeaderCell>Reply</TableHeaderCell><TableHeaderCell>Rule</TableHeaderCell></TableRow></TableHeader>
              <TableBody>
                {simulation.steps.map((s, i) => (
                  <TableRow key={i}>
                    <TableCell>{s.command}</TableCell>
                    <TableCell><Badge appearance="tint" color={s.decision.verdict === 'allow' ? 'success' : s.decision.verdict === 'refuse' ? 'danger' : 'warning'}>{s.decision.code}</Badge> {s.decision.enhanced} {s.decision.text}</TableCell>
                    <TableCell><span className={ui.mono}>{s.decision.rule}</span></TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </section>
        <section className={ui.card} aria-label="Self-probe">
          <Text weight="semibold" size={400}>Self-probe</Text>
          <Text size={200}>A real SMTP client connects from this machine: greeting, STARTTLS, AUTH before TLS, protocol and cipher, certificate names, legacy TLS, relaying. Give a test user to check that signed-in users may relay.</Text>
          <div className={styles.row}>
            <Field label="Test user (optional)"><Input value={probeUser} onChange={(_e, d) => setProbeUser(d.value)} /></Field>
            <Field label="Password"><Input type="password" value={probePassword} onChange={(_e, d) => setProbePassword(d.value)} /></Field>
          </div>
          <Button appearance="primary" onClick={() => void runProbe()} disabled={!chosen || probing}>{probing ? 'Probing…' : 'Run self-probe'}</Button>
          {probing && <Spinner size="tiny" />}
          <ErrorBar error={probeError} />
          {probe && (
            <div aria-label="Probe results">
              <Text weight="semibold" className={probe.passed ? styles.pass : styles.fail}>{probe.passed ? 'All checks passed' : `${probe.checks.filter((c) => !c.pass).length} check(s) failed`} — {probe.target}</Text>
              {probe.checks.map((c) => (
                <div key={c.id} className={styles.check}>
                  {c.pass ? <CheckmarkCircleFilled className={styles.pass} aria-label="Pass" /> : <DismissCircleFilled className={styles.fail} aria-label="Fail" />}
                  <div>
                    <Text weight="semibold" block>{c.title}</Text>
                    <Text size={200} block className={ui.mono}>{c.detail}</Text>
                    {c.advice && <Text size={200} block>What to change: {c.advice}</Text>}
                  </div>
                </div>
              ))}
            </div>
          )}
        </section>
        <RouteTest server={chosen} routes={servers?.find((s) => s.config.name === chosen)?.config.delivery.routes.map((r) => r.name) ?? []} />
      </div>
    </div>
  );
}

/** Test route: sign in to the route's provider and send one test message, step by step. */
function RouteTest({ server, routes }: { server: string; routes: string[] }) {
  const ui = useUiStyles();
  const styles = useStyles();
  const [route, setRoute] = useState('');
  const [to, setTo] = useState('');
  const [report, setReport] = useState<RouteTestReport | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const chosen = routes.includes(route) ? route : '';
  const run = async () => {
    setRunning(true);
    setReport(null);
    try {
      setReport(await api['route.test']({ server, route: chosen || null, to }));
      setError(null);
    } catch (err) {
      setError({ message: errorMessage(err), field: errorField(err) });
    } finally {
      setRunning(false);
    }
  };
  return (
    <section className={ui.card} aria-label="Test route">
      <Text weight="semibold" size={400}>Test route</Text>
      <Text size={200}>Signs in to the route's provider (Microsoft 365, Google, your ISP) and sends one test message to the address you give, outside the queue; each step says what it saw, and what to do when it fails.</Text>
      <div className={styles.row}>
        <Field label="Route">
          <Dropdown value={chosen || 'Default (the smart host, or directly by MX)'} selectedOptions={[chosen]} onOptionSelect={(_e, d) => setRoute(d.optionValue ?? '')}>
            <Option value="">Default (the smart host, or directly by MX)</Option>
            {routes.map((r) => <Option key={r} value={r}>{r}</Option>)}
          </Dropdown>
        </Field>
        <Field label="Send the test message to" validationMessage={error?.field === 'to' ? error.message.replace(/^[\w.[\]]+: /, '') : undefined}>
          <Input value={to} onChange={(_e, d) => setTo(d.value)} placeholder="you@example.com" />
        </Field>
      </div>
      <Button appearance="primary" onClick={() => void run()} disabled={!server || running}>{running ? 'Testing…' : 'Test route'}</Button>
      {running && <Spinner size="tiny" />}
      {error && error.field !== 'to' && <ErrorBar error={error.message} />}
      {report && (
        <div aria-label="Route test results">
          <Text weight="semibold" className={report.passed ? styles.pass : styles.fail}>{report.passed ? `The route works: check that the message reached ${report.to}` : 'The route does not work yet'}</Text>
          {report.steps.map((s, i) => (
            <div key={i} className={styles.check}>
              {s.ok ? <CheckmarkCircleFilled className={styles.pass} aria-label="Pass" /> : <DismissCircleFilled className={styles.fail} aria-label="Fail" />}
              <div>
                <Text weight="semibold" block>{s.title}</Text>
                <Text size={200} block className={ui.mono}>{s.detail}</Text>
                {s.explanation && <Text size={200} block><b>{s.explanation.problem}</b> What to do: {s.explanation.fix}</Text>}
              </div>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
