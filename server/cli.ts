// The `relaydesk` command. Each sub-command opens the store in the data folder, does one thing,
// and says what it did in one line (or prints JSON/tables). Errors are one line on stderr and
// exit code 1 (2 for usage errors). No secret is ever printed unless explicitly asked for.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAdminHandlers } from './admin';
import { App, ENGINE_STATUS_KEY } from './app';
import { type ConsoleServer, DEFAULT_CONSOLE_PORT, isLoopback, setAdminPassword, startConsole } from './web/console-server';
import { AdminError } from './contract/errors';
import type { RelaydeskEvent } from './contract/events';
import { checkFqdn } from './dns/fqdn-check';
import { resolveDestinations } from './dns/mx';
import { presentedSmartHostCertificate, trustSmartHostCertificate } from './delivery/smart-host-certificate';
import { readMessageHeaders } from './spool/spool';
import { OAUTH_PROVIDERS, SMART_HOST_PRESETS, type SmartHostPreset } from './contract/settings';
import type { SmartHostSignInStatus } from './contract/admin-api';
import { EventBus } from './log/event-bus';
import { fileKeySecretBox } from './oauth/secret-box';
import { SmartHostTokens } from './oauth/smart-host-tokens';
import { defaultDataDir, packageRoot } from './paths';
import { openStore, type Store } from './store/store';
import { formatEventLine } from './contract/log-view';
import { RETENTION_OPTIONS, RETENTION_USAGE, retentionCommand } from './cli/retention-command';
import { DEVICE_USAGE, deviceCommand, userLimitCommand } from './cli/device-command';
import { IMPORT_USAGE, importCommand } from './cli/import-command';
import { LOG_USAGE, logCommand } from './cli/log-command';
import { inspectCertificate } from './tls/certificates';
import { loadCertificateTools } from './tls/load-certificate-tools';
import { CertificateService, parseKeySpec } from './tls/certificate-service';

const USAGE = `Usage: relaydesk <command> [options]

  serve [--console [ADDR:]PORT] [--console-host NAME]... [--verbose]
                                        run every enabled virtual server, and the web console
                                        (default 127.0.0.1:${DEFAULT_CONSOLE_PORT}; 0 = any free port)
  admin set-password --password-stdin   the password of the web console
  server list                           virtual servers, their state and listeners
  server start|stop|pause NAME          set a server's running state (a running serve follows)
  user add NAME --password-stdin [--sender ADDR]... [--cram-md5]
  user passwd NAME --password-stdin
  user list | user disable NAME | user enable NAME | user remove NAME
  domain add DOMAIN [--forward HOST:PORT] | domain list | domain remove DOMAIN
  cert create NAME --cn FQDN [--san NAME]... [--type rsa2048|rsa3072|rsa4096|p256|p384] [--days N] [--assign SERVER]
  cert request NAME --cn FQDN [--san NAME]... [--type TYPE] [--out FILE]   new key + CSR for a CA
  cert requests | cert cancel NAME                   pending requests
  cert complete NAME --cert FILE [--assign SERVER]   the CA's answer (PEM chain or PKCS#7)
  cert import NAME (--key FILE --cert FILE | --pfx FILE --password-stdin) [--assign SERVER] [--allow-expired]
  cert export NAME [--chain | --full | --private-key | --pfx FILE --password-stdin]
  cert assign NAME SERVER [--sni]                    the server's certificate, or (--sni) one more chosen by name
  cert list | cert show NAME | cert remove NAME
  smarthost set SERVER (--preset microsoft365|google-relay|gmail|isp | --host HOST) [--port N]
         [--security starttls|tls|none] [--user NAME --password-stdin] [--no-verify]
  smarthost clear SERVER                   deliver directly by MX again
  smarthost oauth SERVER --provider microsoft365|google|custom --client-id ID --user MAILBOX
         [--tenant TENANT] [--flow browser|device|app] [--client-secret-stdin]
         [--auth-url URL --token-url URL --device-url URL --revoke-url URL --scope SCOPE] [--host HOST --port N]
                                        sign in upstream with OAuth2 (XOAUTH2) instead of a password
  smarthost signin SERVER                  run the sign-in: prints the URL to open or the code to enter
  smarthost status SERVER | smarthost signout SERVER
  smarthost certificate SERVER             the certificate the smart host presents, with its SHA-256 fingerprint
  smarthost trust SERVER (--fingerprint SHA256 | --clear)
                                        trust exactly that certificate (self-signed or private CA), or stop
  dns check-fqdn SERVER | dns mx DOMAIN     does the FQDN point here; where mail for DOMAIN goes
  queue list [--state queued|done|frozen] [--destination DOMAIN|local|remote]
  queue show ID | queue retry ID | queue freeze ID | queue thaw ID
  queue delete ID [--ndr]                  remove a message (--ndr: tell the sender)
${LOG_USAGE}
${DEVICE_USAGE}
${IMPORT_USAGE}
${RETENTION_USAGE}
  config export [--with-secrets]        the whole configuration as JSON on stdout
  config import FILE                    validate FILE and apply it atomically, or change nothing

Every command takes --data DIR (default: ${defaultDataDir()}).`;

class UsageError extends Error {}

function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** `--console` takes an optional value: alone it means the default address. */
function withConsoleDefault(argv: string[]): string[] {
  return argv.map((arg, i) => (arg === '--console' && (argv[i + 1] === undefined || argv[i + 1]?.startsWith('--')) ? `--console=127.0.0.1:${DEFAULT_CONSOLE_PORT}` : arg));
}

export function parseConsoleAddress(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)|)?:?(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new UsageError(`--console takes [ADDRESS:]PORT, e.g. 127.0.0.1:${DEFAULT_CONSOLE_PORT}`);
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port };
}

interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
}

const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: withConsoleDefault(argv),
      allowPositionals: true,
      options: {
        data: { type: 'string' },
        console: { type: 'string' },
        'console-host': { type: 'string', multiple: true },
        verbose: { type: 'boolean' },
        'password-stdin': { type: 'boolean' },
        sender: { type: 'string', multiple: true },
        'cram-md5': { type: 'boolean' },
        forward: { type: 'string' },
        'with-secrets': { type: 'boolean' },
        key: { type: 'string' },
        cert: { type: 'string' },
        assign: { type: 'string' },
        'allow-expired': { type: 'boolean' },
        cn: { type: 'string' },
        type: { type: 'string' },
        'private-key': { type: 'boolean' },
        san: { type: 'string', multiple: true },
        days: { type: 'string' },
        out: { type: 'string' },
        pfx: { type: 'string' },
        chain: { type: 'boolean' },
        full: { type: 'boolean' },
        sni: { type: 'boolean' },
        ndr: { type: 'boolean' },
        preset: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        security: { type: 'string' },
        user: { type: 'string' },
        'no-verify': { type: 'boolean' },
        fingerprint: { type: 'string' },
        provider: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret-stdin': { type: 'boolean' },
        tenant: { type: 'string' },
        flow: { type: 'string' },
        'auth-url': { type: 'string' },
        'revoke-url': { type: 'string' },
        'token-url': { type: 'string' },
        'device-url': { type: 'string' },
        scope: { type: 'string' },
        state: { type: 'string' },
        destination: { type: 'string' },
        clear: { type: 'boolean' },
        address: { type: 'string' },
        client: { type: 'string' },
        since: { type: 'string' },
        last: { type: 'string' },
        format: { type: 'string' },
        limit: { type: 'string' },
        verdict: { type: 'string' },
        follow: { type: 'boolean' },
        server: { type: 'string' },
        'recipient-domain': { type: 'string', multiple: true },
        'per-hour': { type: 'string' },
        'recipients-per-day': { type: 'string' },
        'no-tls': { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        yes: { type: 'boolean' },
        ...Object.fromEntries(Object.keys(RETENTION_OPTIONS).map((option) => [option, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
    if (values.version) {
      io.out(packageVersion());
      return 0;
    }
    const [command, sub, ...rest] = positionals;
    if (values.help || !command) {
      io.out(USAGE);
      return values.help ? 0 : 2;
    }
    const dataDir = values.data ?? defaultDataDir();
    if (command === 'serve') return await serve(dataDir, { verbose: Boolean(values.verbose), console: values.console ? parseConsoleAddress(values.console) : null, consoleHostNames: values['console-host'] ?? [] }, io);
    if (command === 'admin' && sub === 'set-password') {
      if (!values['password-stdin']) throw new UsageError('admin set-password reads the password from standard input: add --password-stdin');
      const password = (await io.readStdin()).replace(/\r?\n$/, '');
      await withStore(dataDir, async (store) => {
        await setAdminPassword(store, password);
        return 0;
      });
      io.out('relaydesk: console password set');
      return 0;
    }
    if (command === 'user' && (sub === 'add' || sub === 'passwd')) {
      const name = need(rest[0], 'a user name');
      if (!values['password-stdin']) throw new UsageError(`user ${sub} reads the password from standard input: add --password-stdin (the password never goes on the command line)`);
      const password = (await io.readStdin()).replace(/\r?\n$/, '');
      const app = new App({ dataDir });
      try {
        if (sub === 'add') {
          await app.addUser(name, password, { senders: values.sender ?? [], cramMd5: Boolean(values['cram-md5']) });
          io.out(`relaydesk: user ${name} added${values['cram-md5'] ? ' (CRAM-MD5 on: its HMAC-MD5 contexts are stored; they do not reveal the password, but anyone holding them can sign in with CRAM-MD5)' : ''}`);
        } else {
          await app.setPassword(name, password);
          io.out(`relaydesk: password of ${name} changed`);
        }
      } finally {
        app.store.close();
      }
      return 0;
    }
    const stdinPassword = (values['password-stdin'] || values['client-secret-stdin']) && (command === 'cert' || command === 'smarthost') ? (await io.readStdin()).replace(/\r?\n$/, '') : null;
    if (command === 'smarthost' && (sub === 'signin' || sub === 'status' || sub === 'signout')) {
      return await withStore(dataDir, (store) => smartHostSignInCommand(store, dataDir, sub, need(rest[0], 'a virtual server name'), io));
    }
    if (command === 'queue' && sub === 'delete') {
      const id = need(rest[0], 'a queue id');
      const app = new App({ dataDir });
      try {
        await app.remoteDelivery.deleteMessage(id, Boolean(values.ndr));
      } finally {
        app.store.close();
      }
      io.out(`relaydesk: ${id} deleted${values.ndr ? ' (the sender was told)' : ''}`);
      return 0;
    }
    return await withStore(dataDir, (store) => runStoreCommand(store, command, sub, rest, { ...values, stdinPassword }, io));
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      io.err(`relaydesk: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`relaydesk: ${(err as Error).message}`);
    return 1;
  }
}

interface ObservedServer { name: string; running: boolean; paused: boolean; listening: Array<{ address: string; port: number; mode: string }>; lastBindFailure: Array<{ address: string; port: number; message: string }> }

/** What a running `serve` last observed (its engine publishes it), or null when none runs. */
function observedStatus(store: Store): ObservedServer[] | null {
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
  return failure ? `CANNOT LISTEN on ${failure.address}:${failure.port}: ${failure.message}` : 'not listening';
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

async function withStore(dataDir: string, work: (store: Store) => Promise<number> | number): Promise<number> {
  const store = openStore({ dataDir });
  try {
    return await work(store);
  } finally {
    store.close();
  }
}

type Values = Record<string, string | boolean | string[] | null | undefined>;

async function runStoreCommand(store: Store, command: string, sub: string | undefined, rest: string[], values: Values, io: Io): Promise<number> {
  const key = `${command} ${sub ?? ''}`.trim();
  switch (key) {
    case 'server list': {
      const servers = store.listServers();
      if (servers.length === 0) io.out('No virtual servers yet: `relaydesk serve` creates the default one on first start.');
      const observed = observedStatus(store);
      for (const s of servers) {
        const ports = [`${s.port} (starttls)`, ...(s.tlsPort !== null ? [`${s.tlsPort} (implicit-tls)`] : [])].join(', ');
        io.out(`${s.name}\t${s.state}\t${s.bindAddress === 'all' ? 'all addresses' : s.bindAddress} ${ports}\t${s.fqdn}\t${describeObserved(s.name, s.state, observed)}`);
      }
      return 0;
    }
    case 'server start':
    case 'server stop':
    case 'server pause': {
      const name = need(rest[0], 'a server name');
      const state = sub === 'start' ? 'started' : sub === 'stop' ? 'stopped' : 'paused';
      store.setServerState(name, state);
      io.out(`relaydesk: ${name} set to ${state} (a running \`relaydesk serve\` applies it within a second)`);
      return 0;
    }
    case 'user list': {
      const users = store.listUsers();
      if (users.length === 0) io.out('No users. Add one: printf "%s" "$PASSWORD" | relaydesk user add NAME --password-stdin');
      for (const u of users) io.out(`${u.name}\t${u.enabled ? 'enabled' : 'disabled'}\t${u.cramSecret ? 'cram-md5' : '-'}\t${u.senders.join(',') || '-'}`);
      return 0;
    }
    case 'user disable':
    case 'user enable': {
      const name = need(rest[0], 'a user name');
      store.updateUser(name, { enabled: sub === 'enable' });
      io.out(`relaydesk: user ${name} ${sub}d`);
      return 0;
    }
    case 'user remove': {
      const name = need(rest[0], 'a user name');
      store.removeUser(name);
      io.out(`relaydesk: user ${name} removed`);
      return 0;
    }
    case 'domain add': {
      const domain = need(rest[0], 'a domain');
      const forward = typeof values.forward === 'string' ? values.forward : null;
      const added = store.addAcceptedDomain({ domain, action: forward ? 'forward' : 'drop', forwardTo: forward });
      io.out(`relaydesk: ${added.domain} accepted (${added.action === 'drop' ? 'drop folder' : `forward to ${added.forwardTo}`})`);
      return 0;
    }
    case 'domain list': {
      for (const d of store.listAcceptedDomains()) io.out(`${d.domain}\t${d.action}${d.forwardTo ? `\t${d.forwardTo}` : ''}`);
      return 0;
    }
    case 'domain remove': {
      const domain = need(rest[0], 'a domain');
      store.removeAcceptedDomain(domain);
      io.out(`relaydesk: ${domain} removed from accepted domains`);
      return 0;
    }
    case 'cert create':
    case 'cert request':
    case 'cert complete':
    case 'cert cancel':
    case 'cert requests':
    case 'cert import':
    case 'cert export':
    case 'cert assign':
    case 'cert list':
    case 'cert show':
    case 'cert remove':
      return certCommand(store, sub as string, rest, values, io);
    case 'queue list': {
      const state = typeof values.state === 'string' ? values.state : undefined;
      if (state !== undefined && !['queued', 'done', 'frozen'].includes(state)) throw new UsageError('--state takes queued, done or frozen');
      const queue = store.listQueue({
        ...(state ? { state: state as 'queued' } : {}), ...(typeof values.destination === 'string' ? { destination: values.destination } : {}),
      });
      if (queue.length === 0) io.out('The queue is empty.');
      for (const m of queue) {
        const rcpts = m.recipients.map((r) => `${r.address}=${r.state}`).join(' ');
        io.out(`${m.id}\t${m.state}\t${m.receivedAt}\t${m.size} bytes\tfrom <${m.mailFrom}>\t${rcpts}`);
      }
      return 0;
    }
    case 'log':
      return logCommand(store, values, io);
    case 'retention':
      return retentionCommand(store, values, io);
    case 'device add':
    case 'device list':
    case 'device remove':
      return deviceCommand(store, sub, rest, values, io);
    case 'import iis':
      return importCommand(store, sub, rest[0], values, io);
    case 'user limit':
      return userLimitCommand(store, rest[0], values, io);
    case 'queue show': {
      const id = need(rest[0], 'a queue id');
      const m = store.requireMessage(id);
      const removed = '(delivered: the body was removed from the spool; this record is the history)';
      io.out([`${m.id} (${m.state}) on ${m.serverName}`, `  received ${m.receivedAt} from ${m.clientAddress}${m.authUser ? ` as ${m.authUser}` : ''}`,
        `  from <${m.mailFrom}>, ${m.size} bytes`, ...m.recipients.map((r) => `  to <${r.address}> ${r.route} ${r.state}, ${r.attempts} attempt(s)${r.nextAttemptAt ? `, next ${r.nextAttemptAt}` : ''}${r.lastReply ? `\n      last reply: ${r.lastReply}` : ''}`),
        `  body: ${m.body === 'kept' ? `kept copy ${m.spoolPath}` : m.body === 'removed' ? 'removed' : m.spoolPath}`,
        '  headers:', ...(m.body === 'removed' ? removed : await readMessageHeaders(m).catch(() => '(the spool file is gone)')).trimEnd().split(/\r?\n/).map((line) => `    ${line}`)].join('\n'));
      return 0;
    }
    case 'queue retry':
    case 'queue freeze':
    case 'queue thaw': {
      const id = need(rest[0], 'a queue id');
      store.setMessageState(id, sub as 'retry' | 'freeze' | 'thaw');
      io.out(`relaydesk: ${id} ${sub === 'retry' ? 'will be tried again now' : sub === 'freeze' ? 'frozen (no attempts until thawed)' : 'thawed'}`);
      return 0;
    }
    case 'smarthost set': {
      const server = need(rest[0], 'a virtual server name');
      const preset = typeof values.preset === 'string' ? values.preset : null;
      if (preset !== null && !(preset in SMART_HOST_PRESETS)) throw new UsageError(`--preset takes ${Object.keys(SMART_HOST_PRESETS).join(', ')}`);
      const base = preset ? SMART_HOST_PRESETS[preset as SmartHostPreset] : null;
      const host = typeof values.host === 'string' ? values.host : base?.host;
      if (!host) throw new UsageError('give --host (the preset "isp" needs it too)');
      const user = typeof values.user === 'string' ? values.user : null;
      const password = typeof values.stdinPassword === 'string' ? values.stdinPassword : null;
      if (user && !password) throw new UsageError('with --user, give the password on standard input: --password-stdin');
      store.updateServer(server, { delivery: { smartHost: {
        host, port: typeof values.port === 'string' ? Number(values.port) : base?.port ?? 587,
        security: (typeof values.security === 'string' ? values.security : base?.security ?? 'starttls') as 'starttls',
        verifyCertificate: !values['no-verify'], authentication: user ? 'basic' : 'none', user, password,
      } } });
      io.out(`relaydesk: ${server} sends mail for other domains through ${host}${user ? ` as ${user}` : ''}`);
      return 0;
    }
    case 'smarthost clear': {
      const server = need(rest[0], 'a virtual server name');
      store.updateServer(server, { delivery: { smartHost: null } });
      io.out(`relaydesk: ${server} delivers mail for other domains directly by MX`);
      return 0;
    }
    case 'smarthost oauth': {
      const server = need(rest[0], 'a virtual server name');
      const provider = String(values.provider ?? '');
      if (!['microsoft365', 'google', 'custom'].includes(provider)) throw new UsageError('--provider takes microsoft365, google or custom');
      if (typeof values['client-id'] !== 'string') throw new UsageError('give --client-id (the application ID of your app registration)');
      if (typeof values.user !== 'string') throw new UsageError('give --user: the mailbox that signs in and sends');
      const flow = String(values.flow ?? (provider === 'google' ? 'browser' : 'device'));
      if (!['browser', 'device', 'app'].includes(flow)) throw new UsageError('--flow takes browser, device or app');
      const current = store.getServer(server).delivery.smartHost;
      const preset = provider === 'custom' ? null : OAUTH_PROVIDERS[provider as 'microsoft365' | 'google'].smartHost;
      const host = typeof values.host === 'string' ? values.host : preset?.host ?? current?.host;
      if (!host) throw new UsageError('a custom provider needs --host (the smart host)');
      const str = (key: string) => (typeof values[key] === 'string' ? String(values[key]) : null);
      store.updateServer(server, { delivery: { smartHost: {
        host, port: typeof values.port === 'string' ? Number(values.port) : preset?.port ?? current?.port ?? 587,
        security: (typeof values.security === 'string' ? values.security : current?.security === 'tls' ? 'tls' : 'starttls') as 'starttls',
        verifyCertificate: !values['no-verify'], authentication: 'oauth2', user: values.user, password: null,
        trustedCertificate: current?.host === host ? current.trustedCertificate : null,
        oauth2: {
          provider: provider as 'custom', clientId: values['client-id'], flow: flow as 'device',
          ...(str('tenant') ? { tenant: str('tenant') as string } : {}),
          clientSecret: typeof values.stdinPassword === 'string' ? values.stdinPassword : current?.oauth2?.clientSecret ?? null,
          authorizationEndpoint: str('auth-url'), tokenEndpoint: str('token-url'), deviceEndpoint: str('device-url'), revocationEndpoint: str('revoke-url'), scope: str('scope'),
        },
      } } });
      io.out(`relaydesk: ${server} signs in to ${host} with OAuth2 (${provider}, ${flow === 'app' ? 'app-only' : `${flow} sign-in`}) as ${values.user}; now run: relaydesk smarthost signin "${server}"`);
      return 0;
    }
    case 'smarthost certificate': {
      const presented = await presentedSmartHostCertificate(store, need(rest[0], 'a virtual server name'));
      const { pinned } = presented;
      io.out([
        `Subject:     ${presented.subject}`, `Issuer:      ${presented.issuer}`, `Valid until: ${presented.validTo}`,
        `SHA-256:     ${presented.fingerprint256}`,
        `Verifies:    ${presented.verifies ? 'yes' : `no (${presented.verifyError ?? 'unknown'})`}`,
        `Trusted pin: ${pinned === null ? 'none' : pinned === presented.fingerprint256 ? 'this certificate' : `${pinned} (a different certificate: delivery will fail)`}`,
      ].join('\n'));
      return 0;
    }
    case 'smarthost trust': {
      const server = need(rest[0], 'a virtual server name');
      if (!values.clear && typeof values.fingerprint !== 'string') throw new UsageError('give --fingerprint SHA256 (see: relaydesk smarthost certificate SERVER) or --clear');
      const trusted = await trustSmartHostCertificate(store, server, values.clear ? null : String(values.fingerprint));
      io.out(trusted ? `relaydesk: ${server} trusts the smart host's certificate ${trusted.fingerprint256} (${trusted.subject})`
        : `relaydesk: ${server} no longer trusts a pinned certificate; the smart host's certificate must verify`);
      return 0;
    }
    case 'dns check-fqdn': {
      const result = await checkFqdn(store.getServer(need(rest[0], 'a virtual server name')).fqdn);
      io.out(result.message);
      return result.pointsHere ? 0 : 1;
    }
    case 'dns mx': {
      const domain = need(rest[0], 'a domain');
      const servers = store.listServers()[0]?.delivery.dnsServers ?? [];
      const hosts = await resolveDestinations(domain, servers);
      if (hosts.length === 0) io.out(`${domain} accepts no mail (no MX, A or AAAA record, or a null MX)`);
      for (const h of hosts) io.out(`${h.host}\t${h.addresses.join(', ')}`);
      return hosts.length ? 0 : 1;
    }
    case 'config export': {
      io.out(JSON.stringify(store.exportConfig({ withSecrets: Boolean(values['with-secrets']) }), null, 2));
      return 0;
    }
    case 'config import': {
      const file = need(rest[0], 'a file to import');
      let document: unknown;
      try {
        document = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (err) {
        throw new AdminError('invalid', `${file} is not readable JSON: ${(err as Error).message}`);
      }
      store.importConfig(document, inspectCertificate);
      io.out(`relaydesk: configuration imported from ${file}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${key}"`);
  }
}

async function certCommand(store: Store, sub: string, rest: string[], values: Values, io: Io): Promise<number> {
  const certificates = new CertificateService(store, () => new Date());
  const assign = typeof values.assign === 'string' ? values.assign : undefined;
  const allowExpired = Boolean(values['allow-expired']);
  const spec = () => {
    if (typeof values.cn !== 'string') throw new UsageError(`cert ${sub} needs --cn, the server's FQDN`);
    return { commonName: values.cn, altNames: Array.isArray(values.san) ? values.san : [], key: parseKeySpec(typeof values.type === 'string' ? values.type : undefined) };
  };
  const describe = (c: Awaited<ReturnType<CertificateService['show']>>) => [
    `${c.name}: ${c.subject}`,
    `  names: ${c.altNames.join(', ') || '-'}`,
    `  issuer: ${c.selfSigned ? 'self-signed' : c.issuer}`,
    `  serial: ${c.serialNumber}`,
    `  valid: ${c.notBefore} to ${c.notAfter} (${c.daysLeft < 0 ? `expired ${-c.daysLeft} day(s) ago` : `${c.daysLeft} day(s) left`})`,
    `  key: ${c.keyType}`,
    `  SHA-256: ${c.fingerprintSha256}`,
    `  chain: ${c.chainLength} certificate(s), ${c.chain.ordered ? 'in order' : 'out of order'}, ${c.chain.complete ? 'complete to its root' : 'root not included'}${c.chain.coversFqdn === null ? '' : `, ${c.chain.coversFqdn ? 'covers' : 'does NOT cover'} the server's FQDN`}`,
    ...c.chain.problems.map((p) => `  note: ${p}`),
    `  used by: ${c.assignedTo.join(', ') || '-'}`,
  ].join('\n');
  const name = () => need(rest[0], 'a certificate name');
  switch (sub) {
    case 'create': {
      const days = typeof values.days === 'string' ? Number(values.days) : undefined;
      if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) throw new UsageError('--days takes 1 to 3650');
      io.out(describe(await certificates.create(name(), { ...spec(), ...(days ? { days } : {}) }, assign)));
      return 0;
    }
    case 'request': {
      const csr = await certificates.request(name(), spec());
      if (typeof values.out === 'string') {
        fs.writeFileSync(values.out, csr);
        io.out(`relaydesk: request ${rest[0]} saved to ${values.out}; send it to your CA, then: relaydesk cert complete ${rest[0]} --cert ANSWER`);
      } else io.out(csr.trimEnd());
      return 0;
    }
    case 'requests': {
      const pending = store.listCertificateRequests();
      if (pending.length === 0) io.out('No pending certificate requests.');
      for (const r of pending) io.out(`${r.name}\t${r.commonName}${r.altNames.length ? ` (${r.altNames.join(', ')})` : ''}\t${r.keySpec}\tsince ${r.createdAt}`);
      return 0;
    }
    case 'cancel':
      store.removeCertificateRequest(name());
      io.out(`relaydesk: request ${rest[0]} cancelled (its key is deleted)`);
      return 0;
    case 'complete': {
      if (typeof values.cert !== 'string') throw new UsageError('cert complete needs --cert FILE (the CA\'s answer: PEM certificate, PEM chain or PKCS#7)');
      io.out(describe(await certificates.complete(name(), fs.readFileSync(values.cert), { assignTo: assign, allowExpired })));
      return 0;
    }
    case 'import': {
      let details;
      if (typeof values.pfx === 'string') {
        if (values.stdinPassword === null || values.stdinPassword === undefined) throw new UsageError('cert import --pfx reads the PFX password from standard input: add --password-stdin');
        details = await certificates.importPfx(name(), fs.readFileSync(values.pfx), String(values.stdinPassword), { assignTo: assign, allowExpired });
      } else {
        if (typeof values.key !== 'string' || typeof values.cert !== 'string') throw new UsageError('cert import needs --key FILE and --cert FILE (PEM), or --pfx FILE --password-stdin');
        details = await certificates.importPem(name(), fs.readFileSync(values.key, 'utf8'), fs.readFileSync(values.cert, 'utf8'), { assignTo: assign, allowExpired });
      }
      io.out(describe(details));
      return 0;
    }
    case 'export': {
      if (typeof values.pfx === 'string') {
        if (values.stdinPassword === null || values.stdinPassword === undefined) throw new UsageError('cert export --pfx reads the password for the file from standard input: add --password-stdin');
        fs.writeFileSync(values.pfx, await certificates.exportPfx(name(), String(values.stdinPassword)), { mode: 0o600 });
        io.out(`relaydesk: ${rest[0]} exported with its private key to ${values.pfx}`);
      } else if (values['private-key']) {
        io.out(certificates.exportKeyPem(name()).trimEnd());
      } else {
        io.out(certificates.exportPem(name(), values.chain ? 'chain' : values.full ? 'full' : 'certificate').trimEnd());
      }
      return 0;
    }
    case 'assign': {
      const server = need(rest[1], 'a virtual server name');
      const details = await certificates.show(name());
      if (values.sni) {
        const current = store.getServer(server).access.sniCertificates;
        store.updateServer(server, { access: { sniCertificates: [...new Set([...current, details.name])] } });
        io.out(`relaydesk: ${details.name} added to ${server} for clients asking for ${details.altNames.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)).join(', ')} (SNI)`);
      } else {
        store.updateServer(server, { certificate: details.name });
        io.out(`relaydesk: ${details.name} assigned to ${server} (a running server uses it for new connections within a second)`);
      }
      return 0;
    }
    case 'list': {
      const list = await certificates.list();
      if (list.length === 0) io.out('No certificates.');
      for (const c of list) {
        const warn = c.daysLeft < 0 ? '  EXPIRED' : c.daysLeft <= 7 ? '  EXPIRES WITHIN 7 DAYS' : c.daysLeft <= 30 ? '  expires within 30 days' : '';
        io.out(`${c.name}\t${c.subject}\t${c.keyType}\tvalid until ${c.notAfter} (${c.daysLeft} days)\t${c.assignedTo.join(', ') || '-'}${warn}`);
      }
      return 0;
    }
    case 'show':
      io.out(describe(await certificates.show(name())));
      return 0;
    case 'remove':
      store.removeCertificate(name());
      io.out(`relaydesk: certificate ${rest[0]} removed`);
      return 0;
    default:
      throw new UsageError(`unknown command "cert ${sub}"`);
  }
}

/** OAuth2 sign-in from the command line; a running serve sees the new sign-in through the store. */
async function smartHostSignInCommand(store: Store, dataDir: string, sub: string, server: string, io: Io): Promise<number> {
  const tokens = new SmartHostTokens({ store, box: fileKeySecretBox(dataDir), bus: new EventBus(), now: () => new Date() });
  const print = (status: SmartHostSignInStatus) => {
    io.out([
      `Server:        ${status.server}`, `Provider:      ${status.provider} (${status.flow === 'app' ? 'app-only' : `${status.flow} sign-in`})`,
      `Account:       ${status.account ?? '-'}`,
      `State:         ${status.needsSignIn ? 'SIGN-IN NEEDED' : status.signedIn ? 'signed in' : 'not signed in'}`,
      `Signed in:     ${status.signedInAt ?? '-'}`, `Last refresh:  ${status.lastRefreshAt ?? '-'}`,
      `Token expires: ${status.accessTokenExpiresAt ?? '-'}`, `Last error:    ${status.lastError ?? '-'}`,
      `Secrets in:    ${status.secretStore}`,
    ].join('\n'));
  };
  if (sub === 'status') {
    const status = tokens.status(server);
    print(status);
    return status.signedIn ? 0 : 1;
  }
  if (sub === 'signout') {
    const { revoked } = await tokens.signOut(server);
    io.out(`relaydesk: ${server} signed out of its smart host; the refresh token was deleted here (${revoked})`);
    return 0;
  }
  const status = await tokens.signIn(server, {
    onUrl: (url) => io.out(`Open this address in a browser on this computer and sign in as the mailbox:\n\n  ${url}\n\nWaiting for the sign-in (15 minutes at most)...`),
    onPrompt: (p) => io.out(`On any device, open ${p.verificationUri} and enter the code:\n\n  ${p.userCode}\n\nWaiting until ${p.expiresAt}...`),
  });
  io.out(`relaydesk: ${status.server} signed in as ${status.account ?? '?'}; access token valid until ${status.accessTokenExpiresAt ?? '?'}; waiting mail is tried now`);
  return 0;
}

function formatListener(event: Extract<RelaydeskEvent, { type: 'listening' }>): string {
  const address = event.address === 'all' ? '*' : event.address.includes(':') ? `[${event.address}]` : event.address;
  return `relaydesk: ${event.server} listening on ${address}:${event.port} (${event.mode})`;
}

function formatEvent(event: RelaydeskEvent): string | null {
  switch (event.type) {
    case 'listening': return formatListener(event);
    case 'bind-failed': return `relaydesk: ${event.server} cannot listen on ${event.address}:${event.port}: ${event.message}`;
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

interface ServeOptions { verbose: boolean; console: { host: string; port: number } | null; consoleHostNames: string[] }

async function serve(dataDir: string, options: ServeOptions, io: Io): Promise<number> {
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
  const queued = app.store.listQueue({ state: 'queued' }).length;
  if (queued > 0) io.out(`relaydesk: ${queued} message(s) in the queue`);
  if (created || app.store.listUsers().length === 0) {
    io.out('relaydesk: secure defaults: authentication and TLS required, relay only for authenticated users.');
    io.out(`relaydesk: add a user to submit mail: printf '%s' "$PASSWORD" | npx relaydesk user add NAME --password-stdin --data ${JSON.stringify(dataDir)}`);
  }
  if (app.engine.status().every((s) => !s.running)) io.err('relaydesk: no virtual server is running (see `relaydesk server list`)');
  // What needs the admin from the first minute: a lost smart host sign-in, a disk below its floor.
  for (const warning of app.signInWarnings().filter((w) => w.id.startsWith('sign-in:'))) io.err(`relaydesk: warning: ${warning.message} ${warning.action}`);
  let consoleServer: ConsoleServer | null = null;
  if (options.console) {
    consoleServer = await startConsole({
      ...options.console,
      handlers: createAdminHandlers(app),
      bus: app.bus,
      store: app.store,
      staticDir: path.join(packageRoot(), 'renderer', 'dist'),
      tls: isLoopback(options.console.host) ? undefined : await consoleTls(app),
      hostNames: options.consoleHostNames,
    });
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
