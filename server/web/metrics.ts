// /metrics (Prometheus text exposition format 0.0.4) and /healthz of the console listener. Every
// figure is read from what the engine, the counters and the store observed at scrape time:
// listening means a socket is bound, a sign-in means a stored grant, not the saved setting.
import type { App } from '../app';
import { signInKey, smartHostsOf } from '../contract/settings';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'failing';
  servers: Array<{ name: string; desired: string; listening: boolean; problem: string | null }>;
  warnings: Array<{ message: string; action: string }>;
}

export interface MetricsSource {
  /** Scrapes without a session or token: only for a console bound to loopback (serve --metrics-open). */
  open: boolean;
  render(): Promise<string>;
  health(): Promise<HealthReport>;
}

type Labels = Record<string, string>;
interface Family { name: string; help: string; type: 'gauge' | 'counter'; samples: Array<{ labels: Labels; value: number }> }

/** Label values escaped as the exposition format says: backslash, double quote and line feed. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function exposition(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
      lines.push(`${family.name}${labels ? `{${labels}}` : ''} ${Number.isFinite(sample.value) ? sample.value : 0}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function createMetricsSource(app: App, open: boolean): MetricsSource {
  const health = async (): Promise<HealthReport> => {
    const servers = app.engine.status().map((s) => {
      const failure = s.lastBindFailure[0];
      const listening = s.running && s.listening.length > 0;
      const problem = s.desired === 'stopped' || listening ? null : failure ? `cannot listen on ${failure.address}:${failure.port}: ${failure.message}${s.bindRetrySeconds ? ` (trying again every ${s.bindRetrySeconds} s)` : ''}` : 'not listening';
      return { name: s.name, desired: s.desired, listening, problem };
    });
    const warnings = (await app.activeWarnings()).map((w) => ({ message: w.message, action: w.action }));
    const failing = servers.some((s) => s.problem !== null) || app.diskWatch.low;
    return { status: failing ? 'failing' : warnings.length > 0 ? 'degraded' : 'ok', servers, warnings };
  };

  const render = async (): Promise<string> => {
    const now = app.clock().getTime();
    const status = app.engine.status();
    const counters = app.counters.read().perServer;
    const totals = app.counters.totals();
    const servers = app.store.listServers();
    const depth = app.store.queueDepth();
    const perServer = (pick: (name: string) => number) => servers.map((s) => ({ labels: { server: s.name }, value: pick(s.name) }));
    const certificates = await app.certificates.list();
    const families: Family[] = [
      { name: 'relaydesk_server_listening', help: 'Whether the virtual server has its listeners bound (1) or not (0), as observed.', type: 'gauge',
        samples: status.map((s) => ({ labels: { server: s.name, desired: s.desired }, value: s.running && s.listening.length > 0 ? 1 : 0 })) },
      { name: 'relaydesk_sessions_active', help: 'SMTP sessions open now.', type: 'gauge', samples: status.map((s) => ({ labels: { server: s.name }, value: s.sessions })) },
      { name: 'relaydesk_sessions_total', help: 'SMTP connections since start.', type: 'counter', samples: perServer((n) => counters[n]?.sessions ?? 0) },
      { name: 'relaydesk_refusals_total', help: 'Commands refused or deferred since start, by the rule that decided.', type: 'counter',
        samples: Object.entries(counters).flatMap(([server, c]) => Object.entries(c.refusals).map(([rule, value]) => ({ labels: { server, rule }, value }))) },
      { name: 'relaydesk_messages_accepted_total', help: 'Messages accepted (250 after DATA) since start.', type: 'counter', samples: perServer((n) => counters[n]?.messagesAccepted ?? 0) },
      { name: 'relaydesk_accepted_bytes_total', help: 'Bytes of accepted messages since start.', type: 'counter', samples: perServer((n) => counters[n]?.bytesAccepted ?? 0) },
      { name: 'relaydesk_received_bytes_total', help: 'Bytes read from SMTP clients (closed sessions) since start.', type: 'counter', samples: perServer((n) => totals.perServer[n]?.bytesIn ?? 0) },
      { name: 'relaydesk_sent_bytes_total', help: 'Bytes written to SMTP clients (closed sessions) since start.', type: 'counter', samples: perServer((n) => totals.perServer[n]?.bytesOut ?? 0) },
      { name: 'relaydesk_tls_handshakes_total', help: 'STARTTLS and implicit-TLS handshakes completed since start.', type: 'counter', samples: perServer((n) => totals.perServer[n]?.tlsHandshakes ?? 0) },
      { name: 'relaydesk_auth_failures_total', help: 'Failed, blocked or refused AUTH attempts since start.', type: 'counter', samples: perServer((n) => totals.perServer[n]?.authFailures ?? 0) },
      { name: 'relaydesk_delivery_recipients_total', help: 'Recipients by delivery outcome since start.', type: 'counter',
        samples: (['delivered', 'deferred', 'failed'] as const).map((outcome) => ({ labels: { outcome }, value: totals.deliveries[outcome] })) },
      { name: 'relaydesk_queue_messages', help: 'Messages in the queue index by state (done: finished records still kept).', type: 'gauge',
        samples: (['queued', 'frozen', 'done'] as const).map((state) => ({ labels: { state }, value: depth.byState[state] })) },
      { name: 'relaydesk_queue_oldest_age_seconds', help: 'Age of the oldest message still queued (0 when none).', type: 'gauge',
        samples: [{ labels: {}, value: depth.oldestQueuedAt ? Math.max(0, Math.round((now - Date.parse(depth.oldestQueuedAt)) / 1000)) : 0 }] },
      { name: 'relaydesk_smarthost_signed_in', help: 'OAuth2 smart host sign-in: 1 signed in, 0 not (or sign-in needed), per server route.', type: 'gauge',
        samples: servers.flatMap((s) => smartHostsOf(s.delivery).filter(({ host }) => host.authentication === 'oauth2').map(({ route }) => {
          const row = app.store.getSignIn(signInKey(s.name, route));
          return { labels: { server: s.name, route: route ?? 'default' }, value: row && !row.needsSignIn ? 1 : 0 };
        })) },
      { name: 'relaydesk_certificate_days_left', help: 'Days until a stored certificate expires (negative: expired).', type: 'gauge',
        samples: certificates.map((c) => ({ labels: { certificate: c.name, used_by: c.assignedTo.join(',') }, value: c.daysLeft })) },
      { name: 'relaydesk_disk_low', help: 'Whether the data folder is below its free-space floor (new mail gets 452 4.3.1).', type: 'gauge',
        samples: [{ labels: {}, value: app.diskWatch.low ? 1 : 0 }] },
      { name: 'relaydesk_warnings', help: 'Warnings the console shows now.', type: 'gauge', samples: [{ labels: {}, value: (await app.activeWarnings()).length }] },
    ];
    return exposition(families);
  };

  return { open, render, health };
}
