// `relaydesk serve`: every enabled virtual server and, with --console, the web console (with
// /metrics and /healthz). Prints what the engine observed: listening or the reason it cannot.
import path from 'node:path';
import { createAdminHandlers } from '../admin';
import { App } from '../app';
import type { RelaydeskEvent } from '../contract/events';
import { formatEventLine } from '../contract/log-view';
import { describeBindError } from '../engine/bind-error';
import { accessSummary, riskOf } from '../contract/risk';
import { packageRoot } from '../paths';
import { inspectCertificate } from '../tls/certificates';
import { loadCertificateTools } from '../tls/load-certificate-tools';
import { type ConsoleServer, DEFAULT_CONSOLE_PORT, isLoopback, startConsole } from '../web/console-server';
import { createMetricsSource } from '../web/metrics';
import { type CommandGroup, type Io, UsageError } from './shared';

export function parseConsoleAddress(value: string): { host: string; port: number } {
  // PORT, ADDRESS:PORT or [IPv6]:PORT; the colon is required after an address, so "8525" is a port.
  const match = /^(?:(?:\[([^\]]+)\]|([^:[\]]+)):)?(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new UsageError(`--console takes [ADDRESS:]PORT, e.g. 127.0.0.1:${DEFAULT_CONSOLE_PORT}`);
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port };
}

function formatListener(event: Extract<RelaydeskEvent, { type: 'listening' }>): string {
  const address = event.address === 'all' ? '*' : event.address.includes(':') ? `[${event.address}]` : event.address;
  return `relaydesk: ${event.server} listening on ${address}:${event.port} (${event.mode})`;
}

function formatEvent(event: RelaydeskEvent): string | null {
  switch (event.type) {
    case 'listening': return formatListener(event);
    case 'bind-failed': return `relaydesk: ${event.server} cannot listen on ${event.address}:${event.port}: ${event.message}${event.retrySeconds !== null ? ` (trying again every ${event.retrySeconds} s)` : ''}`;
    case 'state': return `relaydesk: ${event.server} is ${event.state}`;
    case 'warning': return `relaydesk: warning: ${event.message}`;
    case 'smarthost-sign-in': return `relaydesk: ${event.server}: smart host ${event.outcome === 'sign-in-needed' ? 'SIGN-IN NEEDED' : event.outcome} (${event.account}): ${event.message}`;
    default: return null;
  }
}

/** serve --verbose prints the same line as `relaydesk log` and the live log (contract/log-view.ts). */
function formatSessionEvent(event: RelaydeskEvent): string | null {
  return 'session' in event ? formatEventLine(event) : null;
}

interface ServeOptions { verbose: boolean; console: { host: string; port: number } | null; consoleHostNames: string[]; metricsOpen: boolean }

export async function serve(dataDir: string, options: ServeOptions, io: Io): Promise<number> {
  const { verbose } = options;
  // Signals are handled from the very start: one that arrives while servers are starting must
  // still stop them gracefully, not kill the process half-way.
  let stopRequested: ((signal: string) => void) | null = null;
  const pendingSignals: string[] = [];
  const onSignal = (signal: string) => (stopRequested ? stopRequested(signal) : pendingSignals.push(signal));
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const app = new App({ dataDir });
  app.bus.subscribe((event) => {
    const line = formatEvent(event) ?? (verbose ? formatSessionEvent(event) : null);
    const alarming = event.type === 'bind-failed' || event.type === 'warning' || (event.type === 'smarthost-sign-in' && event.outcome === 'sign-in-needed');
    if (line) (alarming ? io.err : io.out)(line);
  });
  const created = await app.ensureDefaults();
  io.out(`relaydesk: data folder ${dataDir}`);
  const { orphansRemoved, reindexed, unreadable } = await app.start();
  if (orphansRemoved > 0) io.out(`relaydesk: removed ${orphansRemoved} unacknowledged spool file(s) left by a crash`);
  if (reindexed > 0) io.out(`relaydesk: recovered ${reindexed} accepted message(s) into the queue index`);
  for (const file of unreadable) io.err(`relaydesk: warning: ${file} has no envelope and was left alone`);
  const queued = app.store.queueDepth().byState.queued;
  if (queued > 0) io.out(`relaydesk: ${queued} message(s) in the queue`);
  // Who may use each running server, from its settings as saved (not what the defaults were).
  const statuses = app.engine.status();
  const running = new Set(statuses.filter((s) => s.running).map((s) => s.name));
  const servers = app.store.listServers().filter((s) => running.has(s.name));
  for (const server of servers) {
    io.out(`relaydesk: ${server.name}: ${accessSummary(server)}.`);
    const risk = riskOf(server);
    if (risk) io.err(`relaydesk: warning: ${server.name}: ${risk.title}. ${risk.why}`);
  }
  const needsUsers = servers.some((s) => !s.access.anonymous && (s.access.basicAuth || s.access.cramMd5));
  if ((created || app.store.listUsers().length === 0) && needsUsers) {
    io.out(`relaydesk: add a user to submit mail: printf '%s' "$PASSWORD" | npx relaydesk user add NAME --password-stdin --data ${JSON.stringify(dataDir)}`);
  }
  if (running.size === 0) io.err('relaydesk: no virtual server is running (see `relaydesk server list`)');
  // What needs the admin from the first minute: a lost smart host sign-in, a disk below its floor.
  for (const warning of app.signInWarnings().filter((w) => w.id.startsWith('sign-in:'))) io.err(`relaydesk: warning: ${warning.message} ${warning.action}`);
  let consoleServer: ConsoleServer | null = null;
  if (options.console) {
    const { host, port } = options.console;
    try {
      consoleServer = await startConsole({
        host, port,
        handlers: createAdminHandlers(app),
        bus: app.bus,
        store: app.store,
        staticDir: path.join(packageRoot(), 'renderer', 'dist'),
        tls: isLoopback(host) ? undefined : await consoleTls(app),
        hostNames: options.consoleHostNames,
        metrics: createMetricsSource(app, options.metricsOpen),
      });
    } catch (err) {
      // Without its console the admin could not see what the server does: stop, and say why.
      const keepAlive = setInterval(() => undefined, 1000); // the stop waits on unref'ed handles only
      try {
        await app.stop();
      } finally {
        clearInterval(keepAlive);
      }
      const errno = err as NodeJS.ErrnoException;
      if (!errno.syscall?.startsWith('listen')) throw err;
      const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      throw new Error(`the console cannot listen on ${where}: ${describeBindError(errno, port)}; choose another with --console [ADDRESS:]PORT`, { cause: err });
    }
    io.out(`relaydesk: console on ${consoleServer.url}`);
    if (consoleServer.setupToken) io.out(`relaydesk: first sign-in: open ${consoleServer.url}#setup=${consoleServer.setupToken} to choose the console password`);
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      io.out(`relaydesk: ${signal}: stopping (finishing messages in progress)`);
      Promise.all([consoleServer?.close(), app.stop()]).then(() => resolve(), (err: Error) => { io.err(`relaydesk: ${err.message}`); resolve(); });
    };
    stopRequested = stop;
    const early = pendingSignals.shift();
    if (early) stop(early);
  });
  io.out('relaydesk: stopped');
  return 0;
}

/** TLS for a console bound beyond loopback: the first server's certificate, or one of its own. */
async function consoleTls(app: App): Promise<{ key: string; cert: string }> {
  const assigned = app.store.listServers().map((s) => s.certificate).find((c): c is string => c !== null);
  const existing = assigned ? app.store.findCertificate(assigned) : app.store.findCertificate(CONSOLE_CERTIFICATE);
  if (existing) return { key: existing.keyPem, cert: existing.certPem + existing.chainPem };
  const material = await (await loadCertificateTools()).createSelfSignedCertificate({ commonName: 'localhost', altNames: ['127.0.0.1'] });
  app.store.addCertificate({ name: CONSOLE_CERTIFICATE, certPem: material.certPem, chainPem: '', keyPem: material.keyPem, ...inspectCertificate(material.certPem) });
  return { key: material.keyPem, cert: material.certPem };
}

const CONSOLE_CERTIFICATE = 'Relaydesk console (self-signed)';

export const SERVE_COMMAND: CommandGroup = {
  names: ['serve'],
  usage: `  serve [--console [ADDR:]PORT] [--console-host NAME]... [--metrics-open] [--verbose]
                                        run every enabled virtual server, and the web console
                                        (default 127.0.0.1:${DEFAULT_CONSOLE_PORT}; 0 = any free port)`,
  options: { console: { type: 'string' }, 'console-host': { type: 'string', multiple: true }, verbose: { type: 'boolean' }, 'metrics-open': { type: 'boolean' } },
  async run(_command, context) {
    const { values } = context;
    if (context.sub !== undefined) throw new UsageError(`serve takes no arguments ("${context.sub}")`);
    const consoleAddress = typeof values.console === 'string' ? parseConsoleAddress(values.console) : null;
    if (values['metrics-open'] && (!consoleAddress || !isLoopback(consoleAddress.host))) {
      throw new UsageError('--metrics-open needs the console on loopback (--console 127.0.0.1:PORT); elsewhere scrapers use a token: relaydesk admin token create NAME');
    }
    return serve(context.dataDir, {
      verbose: Boolean(values.verbose), console: consoleAddress, metricsOpen: Boolean(values['metrics-open']),
      consoleHostNames: Array.isArray(values['console-host']) ? values['console-host'] : [],
    }, context.io);
  },
};
