// `relaydesk server ...` and `relaydesk init`: virtual servers from the command line, through the
// AdminApi (the console's validation and its words). `server set` takes dotted paths of the
// exported configuration and applies them all or none.
import { ENGINE_STATUS_KEY } from '../app';
import { connectionModeSwitchRisk, riskOf } from '../contract/risk';
import { settingLines, valueAtPath, withValueAtPath, type PropertyTab } from '../contract/server-settings';
import { bindAddressSchema, DEFAULT_SUBMISSION_PORT, hostnameSchema, portSchema, virtualServerSchema, type VirtualServerConfig } from '../contract/settings';
import { AdminError, parseOrThrow } from '../contract/errors';
import type { Store } from '../store/store';
import { type CliContext, type CommandGroup, integerOption, need, stringOption, UsageError } from './shared';

interface ObservedServer { name: string; running: boolean; paused: boolean; listening: Array<{ address: string; port: number; mode: string }>; lastBindFailure: Array<{ address: string; port: number; message: string }>; bindRetrySeconds?: number | null }

/** What a running `serve` last observed (its engine publishes it), or null when none runs. */
export function observedStatus(store: Store): ObservedServer[] | null {
  const raw = store.getMeta(ENGINE_STATUS_KEY);
  if (!raw) return null;
  const status = JSON.parse(raw) as { pid: number; servers: ObservedServer[]; stopped?: boolean };
  if (status.stopped) return null;
  try {
    process.kill(status.pid, 0);
  } catch {
    return null; // that process is gone
  }
  return status.servers;
}

function describeObserved(name: string, desired: string, observed: ObservedServer[] | null): string {
  if (observed === null) return 'relaydesk serve is not running';
  const s = observed.find((o) => o.name.toLowerCase() === name.toLowerCase());
  if (desired === 'stopped') return 'stopped';
  if (s?.running) return `${s.paused ? 'paused, ' : ''}listening on ${s.listening.map((l) => `${l.address === 'all' ? '*' : l.address}:${l.port}`).join(', ')}`;
  const failure = s?.lastBindFailure[0];
  const retry = s?.bindRetrySeconds ? ` (trying again every ${s.bindRetrySeconds} s)` : '';
  return failure ? `CANNOT LISTEN on ${failure.address}:${failure.port}: ${failure.message}${retry}` : 'not listening';
}

const APPLIES = 'a running `relaydesk serve` applies it within a second';

/**
 * Refuse a change that makes an open relay, locks everybody out or turns the connection list
 * around (with the simulator's verdict for this machine), unless --yes confirms it: the
 * console's warnings, in its words.
 */
export async function confirmRisk(saved: VirtualServerConfig, config: VirtualServerConfig, confirmed: boolean, context: CliContext): Promise<void> {
  let risk = riskOf(config);
  if (!risk && connectionModeSwitchRisk(saved, config, null)) {
    const simulated = await context.admin().call('policy.simulate', { server: saved.name, draft: config, address: '127.0.0.1', tls: true, mailFrom: '', rcptTo: ['postmaster@example.com'] });
    risk = connectionModeSwitchRisk(saved, config, simulated.steps[0]?.decision ?? null);
  }
  if (!risk) return;
  if (!confirmed) throw new AdminError('conflict', `${config.name}: ${risk.title}. ${risk.why} Nothing was changed; add --yes to apply it anyway.`);
  context.io.err(`relaydesk: warning: ${config.name}: ${risk.title}. ${risk.why}`);
}

/** "PATH=VALUE": the value as JSON where it is JSON (false, 50, null, ["a"], "x"), otherwise as text. */
export function parseAssignment(text: string): { path: string; value: unknown } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`"${text}" is not PATH=VALUE (e.g. port=2626, access.anonymous=false)`);
  const path = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  try {
    return { path, value: JSON.parse(raw) as unknown };
  } catch {
    return { path, value: raw };
  }
}

const TABS: PropertyTab[] = ['General', 'Access', 'Messages', 'Delivery'];

async function show(name: string, context: CliContext): Promise<number> {
  const config = await context.admin().call('servers.get', { name });
  const lines = settingLines(config);
  const width = Math.max(...lines.map((l) => l.label.length));
  const out: string[] = [];
  for (const tab of TABS) {
    out.push(`${tab}`);
    for (const line of lines.filter((l) => l.tab === tab)) out.push(`  ${line.label.padEnd(width)}  ${line.value}${line.label === line.path ? '' : `    [${line.path}]`}`);
  }
  out.push('', `Change one: relaydesk server set "${config.name}" PATH=VALUE ...   (PATH in brackets above)`);
  context.io.out(out.join('\n'));
  return 0;
}

async function set(name: string, assignments: string[], context: CliContext): Promise<number> {
  if (assignments.length === 0) throw new UsageError('give at least one PATH=VALUE (e.g. port=2626 access.anonymous=false)');
  const admin = context.admin();
  const current = await admin.call('servers.get', { name });
  let next: VirtualServerConfig = current;
  for (const assignment of assignments) {
    const { path, value } = parseAssignment(assignment);
    if (valueAtPath(current, path) === undefined && !/\.\d+$/.test(path)) {
      throw new AdminError('invalid', `${path}: no such setting (see: relaydesk server show "${current.name}"); nothing was changed`, path);
    }
    next = withValueAtPath(next, path, value);
  }
  const checked = parseOrThrow(virtualServerSchema, next);
  await confirmRisk(current, checked, Boolean(context.values.yes), context);
  await admin.call('servers.update', { name: current.name, patch: checked as unknown as Record<string, unknown> });
  context.io.out(`relaydesk: ${checked.name}: ${assignments.map((a) => parseAssignment(a).path).join(', ')} changed (${APPLIES})`);
  return 0;
}

async function add(name: string, context: CliContext): Promise<number> {
  const admin = context.admin();
  const address = stringOption(context.values, 'address');
  const port = integerOption(context.values, 'port', 0, 65535);
  const tlsPort = integerOption(context.values, 'tls-port', 0, 65535);
  const fqdn = stringOption(context.values, 'fqdn');
  const base = await admin.app.newServerConfig(name);
  const server: VirtualServerConfig = {
    ...base,
    ...(address === undefined ? {} : { bindAddress: parseOrThrow(bindAddressSchema, address, 'address') }),
    ...(port === undefined ? {} : { port }),
    ...(tlsPort === undefined ? {} : { tlsPort }),
    ...(fqdn === undefined ? {} : { fqdn: parseOrThrow(hostnameSchema, fqdn, 'fqdn') }),
  };
  const created = await admin.call('servers.create', { server });
  const where = `${created.bindAddress === 'all' ? 'all addresses' : created.bindAddress} port ${created.port}${created.tlsPort === null ? '' : ` and ${created.tlsPort} (implicit TLS)`}`;
  context.io.out(`relaydesk: ${created.name} added on ${where}, secure defaults (TLS and authentication required, relay only for signed-in users), certificate ${created.certificate ?? 'none'} (${APPLIES})`);
  return 0;
}

async function remove(name: string, context: CliContext): Promise<number> {
  const admin = context.admin();
  const config = await admin.call('servers.get', { name });
  const dependents = await admin.call('servers.dependents', { name: config.name });
  if (dependents.queued > 0 && !context.values.yes) {
    throw new AdminError('conflict', `${config.name} still has ${dependents.queued} message(s) in its queue; they would be deleted with it (their senders are not told). Add --yes to remove it anyway, or wait until the queue is empty.`);
  }
  await admin.call('servers.delete', { name: config.name });
  context.io.out(`relaydesk: ${config.name} removed, with ${dependents.queued + dependents.finished} queue record(s) and ${dependents.events} log event(s) (${APPLIES})`);
  return 0;
}

async function list(context: CliContext): Promise<number> {
  const admin = context.admin();
  const servers = (await admin.call('servers.list', {})).map((s) => s.config);
  if (servers.length === 0) context.io.out('No virtual servers yet: `relaydesk init` (or the first `relaydesk serve`) creates the default one; `relaydesk server add NAME` another.');
  const observed = observedStatus(admin.app.store);
  for (const s of servers) {
    const ports = [`${s.port} (starttls)`, ...(s.tlsPort !== null ? [`${s.tlsPort} (implicit-tls)`] : [])].join(', ');
    context.io.out(`${s.name}\t${s.state}\t${s.bindAddress === 'all' ? 'all addresses' : s.bindAddress} ${ports}\t${s.fqdn}\t${describeObserved(s.name, s.state, observed)}`);
  }
  return 0;
}

export const SERVER_COMMANDS: CommandGroup = {
  names: ['server', 'init'],
  usage: `  init [--address ADDR] [--port N]       create the default virtual server without starting anything
  server list                           virtual servers, their state and listeners
  server add NAME [--address ADDR] [--port N] [--tls-port N] [--fqdn NAME]
                                        a new virtual server with the secure defaults (port ${587} unless given)
  server show NAME                      every setting, grouped as the property sheets, with its PATH
  server set NAME PATH=VALUE... [--yes] change settings (port=2626 access.anonymous=false), all or none
  server remove NAME [--yes]            remove a server with its queue and log history
  server start|stop|pause NAME          set a server's running state (a running serve follows)`,
  options: {
    address: { type: 'string' }, port: { type: 'string' }, 'tls-port': { type: 'string' }, fqdn: { type: 'string' }, yes: { type: 'boolean' },
  },
  async run(command, context) {
    const { sub, rest } = context;
    if (command === 'init') {
      if (sub !== undefined) throw new UsageError('init takes no arguments, only --address and --port');
      const address = stringOption(context.values, 'address');
      const port = integerOption(context.values, 'port', 1, 65535);
      const app = context.admin().app;
      const created = await app.ensureDefaults({
        ...(address === undefined ? {} : { bindAddress: parseOrThrow(bindAddressSchema, address, 'address') }),
        ...(port === undefined ? {} : { port: parseOrThrow(portSchema, port, 'port') }),
      });
      const first = app.store.listServers()[0];
      if (!created) {
        context.io.out(`relaydesk: ${context.dataDir} is already set up${first ? ` (${first.name} on ${first.bindAddress}:${first.port})` : ''}; nothing changed`);
        return 0;
      }
      context.io.out(`relaydesk: ${first?.name ?? 'the default server'} created on ${first?.bindAddress ?? '127.0.0.1'} port ${first?.port ?? DEFAULT_SUBMISSION_PORT} with the secure defaults; nothing is running yet (start it with: relaydesk serve)`);
      return 0;
    }
    switch (sub) {
      case 'list': return list(context);
      case 'add': return add(need(rest[0], 'a server name'), context);
      case 'show': return show(need(rest[0], 'a server name'), context);
      case 'set': return set(need(rest[0], 'a server name'), rest.slice(1), context);
      case 'remove': return remove(need(rest[0], 'a server name'), context);
      case 'start':
      case 'stop':
      case 'pause': {
        const state = sub === 'start' ? 'started' : sub === 'stop' ? 'stopped' : 'paused';
        const summary = await context.admin().call('servers.setState', { name: need(rest[0], 'a server name'), state });
        context.io.out(`relaydesk: ${summary.config.name} set to ${state} (${APPLIES})`);
        return 0;
      }
      default: throw new UsageError(`unknown command "server ${sub ?? ''}"`);
    }
  },
};
