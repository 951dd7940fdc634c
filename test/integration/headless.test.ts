// Headless parity (#17) through the real binary (bin/relaydesk.js, built by `npm test`): a fresh
// folder configured with CLI commands only before the first serve, `server set` all or nothing,
// access lists that a running serve enforces on real sockets, partial config files (the README's
// own examples), /metrics scraped with a Prometheus text parser, and the service files.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { RawSmtp, plainAuth } from '../../server/smtp/line-client';
import { BIN, cli, serve as startServe, type Served } from '../helpers/serve-process';
import { eventually, tempDir } from '../helpers/test-app';

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}

async function serve(dir: string, extra: string[] = []): Promise<Served> {
  const served = await startServe(dir, extra);
  children.push(served.child);
  return served;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function exported(dir: string): Promise<{ servers: Array<Record<string, unknown> & { name: string; port: number; access: Record<string, unknown> }> }> {
  const result = await cli(['config', 'export', '--data', dir]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as never;
}

/** The greeting a client gets from `address` (the connection control's verdict). */
async function greeting(port: number, address: string): Promise<string> {
  const { client, greeting: line } = await RawSmtp.connect(port, { localAddress: address });
  client.close();
  return line.raw;
}

describe('a fresh folder configured with CLI commands only', () => {
  it('init creates the default server without starting anything; server add, show and set; serve then listens where they said', async () => {
    const dir = folder();
    const [first, second] = [await freePort(), await freePort()];
    const init = await cli(['init', '--port', String(first), '--data', dir]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`${DEFAULT_SERVER_NAME} created on 127.0.0.1 port ${first}`);
    expect((await cli(['init', '--data', dir])).stdout).toContain('already set up');
    expect((await cli(['server', 'list', '--data', dir])).stdout).toContain('relaydesk serve is not running');

    const add = await cli(['server', 'add', 'Scanners', '--port', String(second), '--fqdn', 'relay.example.com', '--data', dir]);
    expect(add.code, add.stderr).toBe(0);
    const show = await cli(['server', 'show', 'Scanners', '--data', dir]);
    expect(show.stdout).toMatch(/^General\n {2}Name +Scanners/);
    expect(show.stdout).toMatch(/Fully qualified domain name \(FQDN\) +relay\.example\.com +\[fqdn\]/);
    expect(show.stdout).toMatch(/Require secure channel +on +\[access\.requireSecureChannel\]/);
    expect(show.stdout).toMatch(/\nMessages\n[\s\S]*Limit number of recipients per message to +100 +\[messages\.maxRecipientsPerMessage\]/);

    const set = await cli(['server', 'set', 'Scanners', 'messages.maxRecipientsPerMessage=50', 'banner=Scanner relay', 'access.lockout.slowAfter=5', '--data', dir]);
    expect(set.code, set.stderr).toBe(0);
    const scanners = (await exported(dir)).servers.find((s) => s.name === 'Scanners');
    expect(scanners).toMatchObject({ port: second, fqdn: 'relay.example.com', banner: 'Scanner relay', messages: { maxRecipientsPerMessage: 50 }, access: { lockout: { slowAfter: 5 } } });

    const served = await serve(dir);
    await eventually(() => served.output().includes(`Scanners listening on 127.0.0.1:${second} (starttls)`));
    expect(served.port).toBe(first);
    expect(await greeting(second, '127.0.0.1')).toBe('220 relay.example.com ESMTP Scanner relay');
    // A change while serve runs: the new port is listened on within a second or two.
    const third = await freePort();
    expect((await cli(['server', 'set', 'Scanners', `port=${third}`, '--data', dir])).code).toBe(0);
    await eventually(() => served.output().includes(`Scanners listening on 127.0.0.1:${third} (starttls)`), 5000);
    expect((await cli(['server', 'list', '--data', dir])).stdout).toContain(`listening on 127.0.0.1:${third}`);
  });

  it('server set applies all or nothing: an unknown path, a bad value or a clash changes nothing and says why', async () => {
    const dir = folder();
    await cli(['init', '--port', String(await freePort()), '--data', dir]);
    await cli(['server', 'add', 'Second', '--port', String(await freePort()), '--data', dir]);
    const before = await exported(dir);
    const unknown = await cli(['server', 'set', 'Second', 'port=2700', 'access.anonymus=true', '--data', dir]);
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.stderr).toContain('access.anonymus: no such setting');
    const bad = await cli(['server', 'set', 'Second', 'maxConnections=0', '--data', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/maxConnections: .*1/);
    const clash = await cli(['server', 'set', 'Second', `port=${before.servers[0]?.port}`, '--data', dir]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain(`already used by virtual server "${DEFAULT_SERVER_NAME}"`);
    const malformed = await cli(['server', 'set', 'Second', 'port', '--data', dir]);
    expect(malformed.code).toBe(2);
    expect(await exported(dir)).toEqual(before);

    // An open relay needs --yes, and is then applied with the warning.
    const open = ['server', 'set', 'Second', 'access.anonymous=true', 'access.relayMode=all-except', '--data', dir];
    const refused = await cli(open);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('This makes an open relay');
    expect(await exported(dir)).toEqual(before);
    const confirmed = await cli([...open, '--yes']);
    expect(confirmed.code).toBe(0);
    expect(confirmed.stderr).toContain('warning: Second: This makes an open relay');
    expect((await exported(dir)).servers.find((s) => s.name === 'Second')?.access).toMatchObject({ anonymous: true, relayMode: 'all-except' });

    const removed = await cli(['server', 'remove', 'Second', '--data', dir]);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await exported(dir)).servers.map((s) => s.name)).toEqual([DEFAULT_SERVER_NAME]);
  });
});

describe('relaydesk access', () => {
  it('takes every entry form, warns before a lock-out or a reversed list, and a running serve enforces the list', async () => {
    const dir = folder();
    await cli(['init', '--port', String(await freePort()), '--data', dir]);
    const served = await serve(dir);
    const server = DEFAULT_SERVER_NAME;
    for (const entry of ['192.0.2.7', '192.0.2.0/24', '2001:db8::/48', '198.51.100.0/255.255.255.0', '*.example.com']) {
      const added = await cli(['access', 'add', server, 'relay', entry, '--data', dir]);
      expect(added.code, `${entry}: ${added.stderr}`).toBe(0);
    }
    expect((await cli(['access', 'list', server, '--data', dir])).stdout)
      .toContain('list: 192.0.2.7, 192.0.2.0/24, 2001:db8::/48, 198.51.100.0/24, domain example.com');
    expect((await cli(['access', 'add', server, 'relay', '192.0.2.0/255.255.255.0', '--data', dir])).stderr).toContain('already on the relay list');
    expect((await cli(['access', 'add', server, 'relay', '192.0.2.0/33', '--data', dir])).code).toBe(1);
    expect((await cli(['access', 'remove', server, 'relay', '198.51.100.0/24', '--data', dir])).code).toBe(0);
    expect((await cli(['access', 'add', server, 'elsewhere', '192.0.2.1', '--data', dir])).code).toBe(2);

    // "Only the list" with an empty list: nobody could connect.
    const lockout = await cli(['access', 'mode', server, 'connection', 'only-list', '--data', dir]);
    expect(lockout.code).toBe(1);
    expect(lockout.stderr).toContain('No computer could connect');

    // Refuse 127.0.0.2 on a running server; this machine (127.0.0.1) stays admitted.
    expect((await cli(['access', 'add', server, 'connection', '127.0.0.2', '--data', dir])).code).toBe(0);
    await eventually(async () => (await greeting(served.port, '127.0.0.2')).startsWith('554 5.7.1'), 5000);
    expect(await greeting(served.port, '127.0.0.1')).toMatch(/^220 /);

    // Switching to "only the list" turns the entry around: the console's warning, with the simulator's verdict for 127.0.0.1.
    const reversed = await cli(['access', 'mode', server, 'connection', 'only-list', '--data', dir]);
    expect(reversed.code).toBe(1);
    expect(reversed.stderr).toContain('The list will mean the opposite');
    expect(reversed.stderr).toMatch(/For this machine \(127\.0\.0\.1\) the simulator says: 554 5\.7\.1/);
    expect((await cli(['access', 'mode', server, 'connection', 'only-list', '--yes', '--data', dir])).code).toBe(0);
    await eventually(async () => (await greeting(served.port, '127.0.0.2')).startsWith('220 '), 5000);
  });
});

describe('config import of partial documents', () => {
  it('imports every JSON block of the README as written, into a fresh folder', async () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks.length).toBeGreaterThan(0);
    for (const [i, block] of blocks.entries()) {
      const dir = folder();
      const file = path.join(dir, `readme-${i}.json`);
      fs.writeFileSync(file, block);
      const result = await cli(['config', 'import', file, '--data', dir]);
      expect(result.code, `README JSON block ${i + 1}: ${result.stderr}`).toBe(0);
      // A server made on a folder without certificates gets a self-signed one: STARTTLS works from the start.
      const doc = JSON.parse((await cli(['config', 'export', '--data', dir])).stdout) as { servers: Array<{ certificate: string | null }>; certificates: Array<{ name: string }> };
      for (const server of doc.servers) expect(doc.certificates.map((c) => c.name)).toContain(server.certificate);
    }
  });

  it('fills what a new server leaves out with the defaults, keeps current values with --merge, and refuses a bad entry with nothing changed', async () => {
    const dir = folder();
    await cli(['init', '--port', String(await freePort()), '--data', dir]);
    await cli(['server', 'set', DEFAULT_SERVER_NAME, 'maxConnections=7', '--data', dir]);
    const file = path.join(dir, 'partial.json');
    const [printers] = [await freePort()];
    fs.writeFileSync(file, JSON.stringify({ servers: [{ name: DEFAULT_SERVER_NAME, banner: 'merged' }, { name: 'Printers', port: printers }] }));

    expect((await cli(['config', 'import', file, '--merge', '--data', dir])).code).toBe(0);
    let doc = await exported(dir);
    expect(doc.servers.find((s) => s.name === DEFAULT_SERVER_NAME)).toMatchObject({ maxConnections: 7, banner: 'merged' });
    expect(doc.servers.find((s) => s.name === 'Printers')).toMatchObject({ port: printers, bindAddress: '127.0.0.1', access: { anonymous: false, requireSecureChannel: true, relayMode: 'only-list' } });

    // Without --merge the document is the configuration: the default server's left-out settings are the defaults again.
    expect((await cli(['config', 'import', file, '--data', dir])).code).toBe(0);
    doc = await exported(dir);
    expect(doc.servers.find((s) => s.name === DEFAULT_SERVER_NAME)).toMatchObject({ maxConnections: 100, banner: 'merged', port: 587 });

    const before = doc;
    fs.writeFileSync(file, JSON.stringify({ servers: [{ name: 'Printers', access: { relayMode: 'sometimes' } }] }));
    const refused = await cli(['config', 'import', file, '--merge', '--data', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('servers[1].access.relayMode');
    fs.writeFileSync(file, JSON.stringify({ servers: [{ port: 2525 }] }));
    expect((await cli(['config', 'import', file, '--data', dir])).stderr).toContain('servers[0].name: required');
    expect(await exported(dir)).toEqual(before);
  });

  it('prints a JSON Schema in which only what finds an entry is required', async () => {
    const result = await cli(['config', 'schema', '--data', folder()]);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { $schema: string; required?: string[]; properties: Record<string, { items: { required: string[]; properties: Record<string, unknown> } }> };
    expect(schema.$schema).toContain('json-schema.org');
    expect(schema.required ?? []).toEqual([]);
    expect(schema.properties.servers?.items.required).toEqual(['name']);
    expect(schema.properties.acceptedDomains?.items.required).toEqual(['domain']);
    expect(Object.keys(schema.properties.servers?.items.properties ?? {})).toEqual(expect.arrayContaining(['port', 'access', 'delivery', 'connectionRules']));
  });
});

type Families = ReturnType<typeof parsePrometheusTextFormat>;
const sample = (families: Families, name: string, labels: Record<string, string> = {}): number | undefined => {
  const found = families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found === undefined ? undefined : Number(found.value);
};

describe('/metrics and /healthz', () => {
  it('need a session or a token; a scrape parses and counts what the engine did', async () => {
    const dir = folder();
    await cli(['init', '--port', String(await freePort()), '--data', dir]);
    expect((await cli(['user', 'add', 'alice', '--password-stdin', '--data', dir], 'correct horse battery\n')).code).toBe(0);
    const served = await serve(dir, ['--console', '127.0.0.1:0']);
    const base = await eventually(() => /console on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(served.output())?.[1] ?? '');
    expect((await fetch(new URL('/metrics', base))).status).toBe(401);
    expect((await fetch(new URL('/healthz', base))).status).toBe(401);
    expect((await fetch(new URL('/metrics', base), { headers: { authorization: 'Bearer rdk_guessed' } })).status).toBe(401);

    const created = await cli(['admin', 'token', 'create', 'prometheus', '--data', dir]);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^rdk_[\w-]{40,}$/);
    expect((await cli(['admin', 'token', 'list', '--data', dir])).stdout).not.toContain(token);

    // One signed-in session with a wrong password first.
    const { client } = await RawSmtp.connect(served.port);
    await client.command('EHLO metrics.test');
    await client.startTls();
    await client.command('EHLO metrics.test');
    expect((await client.command(`AUTH PLAIN ${plainAuth('alice', 'wrong password here')}`)).code).toBe(535);
    await client.command('QUIT');
    client.close();

    const headers = { authorization: `Bearer ${token}` };
    const families = await eventually(async () => {
      const response = await fetch(new URL('/metrics', base), { headers });
      expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
      const parsed = parsePrometheusTextFormat(await response.text());
      return (sample(parsed, 'relaydesk_received_bytes_total', { server: DEFAULT_SERVER_NAME }) ?? 0) > 0 ? parsed : null;
    }, 5000);
    expect(sample(families, 'relaydesk_server_listening', { server: DEFAULT_SERVER_NAME })).toBe(1);
    expect(sample(families, 'relaydesk_sessions_total', { server: DEFAULT_SERVER_NAME })).toBe(1);
    expect(sample(families, 'relaydesk_tls_handshakes_total', { server: DEFAULT_SERVER_NAME })).toBe(1);
    expect(sample(families, 'relaydesk_auth_failures_total', { server: DEFAULT_SERVER_NAME })).toBe(1);
    expect(sample(families, 'relaydesk_queue_messages', { state: 'queued' })).toBe(0);
    expect(sample(families, 'relaydesk_certificate_days_left', { used_by: DEFAULT_SERVER_NAME })).toBeGreaterThan(800);
    expect(families.find((f) => f.name === 'relaydesk_refusals_total')?.type).toBe('COUNTER');

    const health = await fetch(new URL('/healthz', base), { headers });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', servers: [{ name: DEFAULT_SERVER_NAME, listening: true }] });

    expect((await cli(['admin', 'token', 'revoke', 'prometheus', '--data', dir])).code).toBe(0);
    expect((await fetch(new URL('/metrics', base), { headers })).status).toBe(401);
  });

  it('healthz says 503 with the reason when a server cannot listen; --metrics-open only on loopback', async () => {
    const dir = folder();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      await cli(['init', '--port', String(await freePort()), '--data', dir]);
      await cli(['server', 'add', 'Blocked', '--port', String(taken), '--data', dir]);
      const served = await serve(dir, ['--console', '127.0.0.1:0', '--metrics-open']);
      const base = await eventually(() => /console on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(served.output())?.[1] ?? '');
      const health = await fetch(new URL('/healthz', base));
      expect(health.status).toBe(503);
      const report = await health.json() as { status: string; servers: Array<{ name: string; problem: string | null }> };
      expect(report.status).toBe('failing');
      expect(report.servers.find((s) => s.name === 'Blocked')?.problem).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken}: .*in use`));
      const metrics = parsePrometheusTextFormat(await (await fetch(new URL('/metrics', base))).text());
      expect(sample(metrics, 'relaydesk_server_listening', { server: 'Blocked' })).toBe(0);
    } finally {
      blocker.close();
    }
    const wide = await cli(['serve', '--console', '0.0.0.0:0', '--metrics-open', '--data', dir]);
    expect(wide.code).toBe(2);
    expect(wide.stderr).toContain('--metrics-open needs the console on loopback');
  });
});

describe('serve --console', () => {
  it('takes a bare port as the port on loopback; a console that cannot listen stops serve with the reason', async () => {
    const dir = folder();
    const smtpPort = await freePort();
    await cli(['init', '--port', String(smtpPort), '--data', dir]);
    // "18525" once parsed as address 1852 (0.0.7.60), port 5.
    const consolePort = await freePort();
    const served = await serve(dir, ['--console', String(consolePort)]);
    await eventually(() => served.output().includes(`console on http://127.0.0.1:${consolePort}/`));
    expect((await fetch(`http://127.0.0.1:${consolePort}/`)).status).toBe(200);
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);

    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const refused = await cli(['serve', '--console', `127.0.0.1:${taken}`, '--data', dir]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`the console cannot listen on 127.0.0.1:${taken}: port ${taken} is already in use by another program`);
      // The SMTP server it had started is closed again: its port is free for the next start.
      await new Promise<void>((resolve, reject) => { const probe = net.createServer().once('error', reject).listen(smtpPort, '127.0.0.1', () => probe.close(() => resolve())); });
    } finally {
      blocker.close();
    }
    for (const wrong of ['1852a', '127.0.0.1:', '::1:8525', '70000']) {
      const result = await cli(['serve', '--console', wrong, '--data', dir]);
      expect(result.code, wrong).toBe(2);
      expect(result.stderr).toContain('--console takes [ADDRESS:]PORT');
    }
  });
});

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

describe('relaydesk service', () => {
  // Installing needs root and systemd's tools; DESTDIR keeps the unit out of this machine's /etc and
  // systemctl, useradd and chown are recorded, not run (a test machine has no systemd as PID 1).
  const root = typeof process.getuid === 'function' && process.getuid() === 0 && process.platform === 'linux';
  it.runIf(root)('installs under DESTDIR: the account, the unit, systemctl enable --now; uninstall disables and removes it', async () => {
    const dir = folder();
    const tools = path.join(dir, 'tools');
    const calls = path.join(dir, 'calls.log');
    fs.mkdirSync(tools);
    for (const tool of ['systemctl', 'useradd', 'chown']) fs.writeFileSync(path.join(tools, tool), `#!/bin/sh\necho "${tool} $*" >> "${calls}"\n`, { mode: 0o755 });
    const env = { ...process.env, PATH: `${tools}:${process.env.PATH ?? ''}`, DESTDIR: path.join(dir, 'root') };
    const data = path.join(dir, 'data');
    const installed = await run(['service', 'install', '--data', data, '--user', 'relaydesk-test-account'], env);
    // A --user that does not exist is refused, nothing written.
    expect(installed.code).toBe(1);
    expect(installed.stderr).toContain('no user named "relaydesk-test-account"');
    expect(fs.existsSync(path.join(dir, 'root'))).toBe(false);

    const done = await run(['service', 'install', '--data', data], env);
    expect(done.code, done.stderr).toBe(0);
    const unit = fs.readFileSync(path.join(dir, 'root', 'etc', 'systemd', 'system', 'relaydesk.service'), 'utf8');
    expect(unit).toContain('User=relaydesk\n');
    expect(unit).toContain(`ReadWritePaths="${data}"`);
    expect(fs.statSync(data).isDirectory()).toBe(true);
    const id = (() => { try { execFileSync('id', ['-u', 'relaydesk'], { stdio: 'ignore' }); return true; } catch { return false; } })();
    expect(fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean)).toEqual([
      ...(id ? [] : [`useradd --system --home-dir ${data} --no-create-home --shell /usr/sbin/nologin relaydesk`]),
      `chown -R relaydesk: ${data}`, 'systemctl daemon-reload', 'systemctl enable --now relaydesk.service',
    ]);
    fs.writeFileSync(calls, '');
    const removed = await run(['service', 'uninstall'], env);
    expect(removed.code, removed.stderr).toBe(0);
    expect(fs.existsSync(path.join(dir, 'root', 'etc', 'systemd', 'system', 'relaydesk.service'))).toBe(false);
    expect(fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean)).toEqual(['systemctl disable --now relaydesk.service', 'systemctl daemon-reload']);
    expect(fs.existsSync(data)).toBe(true);
  });

  it('prints a hardened systemd unit that systemd-analyze accepts, a launchd plist and a WinSW file', async () => {
    const dir = folder();
    const unit = await cli(['service', 'install', '--print', '--data', dir, '--user', 'daemon']);
    expect(unit.code, unit.stderr).toBe(0);
    for (const line of ['User=daemon', 'NoNewPrivileges=yes', 'ProtectSystem=strict', `ReadWritePaths="${dir}"`, 'AmbientCapabilities=CAP_NET_BIND_SERVICE',
      'CapabilityBoundingSet=CAP_NET_BIND_SERVICE', 'Restart=on-failure', 'WantedBy=multi-user.target']) {
      expect(unit.stdout.split('\n')).toContain(line);
    }
    // The server's launch flags come before the script (Node reads them, not relaydesk).
    expect(unit.stdout).toMatch(new RegExp(`^ExecStart="${process.execPath.replace(/[/.]/g, '\\$&')}" "--max-semi-space-size=4" "--max-old-space-size=1536" ".*bin/relaydesk\\.js" "serve" "--data" "${dir.replace(/[/.]/g, '\\$&')}"`, 'm'));
    let analyze: string | null = null;
    try {
      analyze = execFileSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).trim();
    } catch { /* not installed: the content checks above stand */ }
    if (analyze) {
      const file = path.join(dir, 'relaydesk.service');
      fs.writeFileSync(file, unit.stdout);
      const output = execFileSync(analyze, ['verify', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(output).toBe('');
    }
    const plist = await cli(['service', 'install', '--print', '--platform', 'darwin', '--data', '/Library/Application Support/Relaydesk', '--user', 'office']);
    expect(plist.stdout).toContain('<key>UserName</key><string>office</string>');
    expect(plist.stdout).toContain('<string>/Library/Application Support/Relaydesk</string>');
    expect(plist.stdout).toMatch(/<string>--max-semi-space-size=4<\/string>\n\s*<string>--max-old-space-size=1536<\/string>\n\s*<string>[^<]*bin\/relaydesk\.js<\/string>/);
    const winsw = await cli(['service', 'install', '--print', '--platform', 'win32', '--data', 'C:\\ProgramData\\Relaydesk']);
    expect(winsw.stdout).toContain('<id>relaydesk</id>');
    expect(winsw.stdout).toContain('--data &quot;C:\\ProgramData\\Relaydesk&quot;');
    expect(winsw.stdout).toMatch(/<arguments>--max-semi-space-size=4 --max-old-space-size=1536 &quot;[^&]*relaydesk\.js&quot; serve /);
    expect((await cli(['service', 'install', '--platform', 'win32'])).code).toBe(2);
  });
});
