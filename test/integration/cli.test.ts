// The `relaydesk` command as a user runs it (child processes of bin/relaydesk.js, built by
// `npm test`): serve's output, changes from a second process applied to the running server
// within a second, config export/import round trips, refused imports, graceful SIGTERM.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fillQueue } from '../../bench/fill-queue';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';
import { cli, preparedDataDir as prepareDir, serve as startServe, type Served } from '../helpers/serve-process';
import { eventually, tempDir } from '../helpers/test-app';

const PASSWORD = 'correct horse battery';

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function preparedDataDir(): Promise<string> {
  const dir = await prepareDir();
  dirs.push(dir);
  return dir;
}

async function serve(dir: string, extra: string[] = []): Promise<Served> {
  const served = await startServe(dir, extra);
  children.push(served.child);
  return served;
}

async function authenticatedSession(port: number, from = '127.0.0.1'): Promise<RawSmtp> {
  const { client } = await RawSmtp.connect(port, { localAddress: from });
  await client.command('EHLO client.test');
  await client.startTls();
  await client.command('EHLO client.test');
  const auth = await client.command(`AUTH PLAIN ${plainAuth('alice', PASSWORD)}`);
  expect(auth.raw).toBe('235 2.7.0 Authentication successful');
  return client;
}

describe('relaydesk CLI', () => {
  it('prints usage, and refuses a password on the command line', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('serve [--console [ADDR:]PORT] [--console-host NAME]... [--metrics-open] [--verbose]');
    const noStdin = await cli(['user', 'add', 'alice', '--data', tempDir()]);
    expect(noStdin.code).toBe(2);
    expect(noStdin.stderr).toContain('--password-stdin');
  });

  it('serves, and applies users and settings changed by another process within a second, keeping open sessions', async () => {
    const dir = await preparedDataDir();
    const served = await serve(dir);
    await eventually(() => served.output().includes('add a user to submit mail'));
    expect(served.output()).toContain('relaydesk: Default SMTP virtual server: sign-in required, TLS required, relay only for signed-in users (the secure defaults).');

    const add = await cli(['user', 'add', 'alice', '--password-stdin', '--data', dir], `${PASSWORD}\n`);
    expect(add).toMatchObject({ code: 0, stdout: 'relaydesk: user alice added\n' });
    expect(add.stdout + add.stderr).not.toContain(PASSWORD);
    const before = await authenticatedSession(served.port, '127.0.0.2');

    // Exclude 127.0.0.2 through an edited export, imported by a second process.
    const exported = JSON.parse((await cli(['config', 'export', '--data', dir])).stdout) as { servers: Array<{ connectionRules: unknown[] }> };
    exported.servers[0]?.connectionRules.push({ kind: 'address', address: '127.0.0.2' });
    const file = path.join(dir, 'edited.json');
    fs.writeFileSync(file, JSON.stringify(exported));
    expect((await cli(['config', 'import', file, '--data', dir])).code).toBe(0);

    await eventually(async () => {
      const { client, greeting } = await RawSmtp.connect(served.port, { localAddress: '127.0.0.2' });
      client.close();
      return greeting.raw === '554 5.7.1 Access denied';
    }, 3000);
    // The session opened before the change is not dropped and still submits.
    expect((await before.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect((await before.command('RCPT TO:<bob@example.com>')).code).toBe(250);
    before.close();

    const disable = await cli(['user', 'disable', 'alice', '--data', dir]);
    expect(disable.code).toBe(0);
    const { client } = await RawSmtp.connect(served.port);
    await client.command('EHLO client.test');
    await client.startTls();
    await client.command('EHLO client.test');
    expect((await client.command(`AUTH PLAIN ${plainAuth('alice', PASSWORD)}`)).code).toBe(535);
    client.close();

    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
  });

  it('finishes a message in progress on SIGTERM, then exits 0', async () => {
    const dir = await preparedDataDir();
    expect((await cli(['user', 'add', 'alice', '--password-stdin', '--data', dir], PASSWORD)).code).toBe(0);
    const served = await serve(dir);
    const client = await authenticatedSession(served.port);
    await client.command('MAIL FROM:<alice@example.com>');
    await client.command('RCPT TO:<bob@example.com>');
    expect((await client.command('DATA')).code).toBe(354);
    client.write('Subject: in flight\r\n\r\nfirst half\r\n');
    served.child.kill('SIGTERM');
    await eventually(() => served.output().includes('SIGTERM: stopping'));
    expect((await client.command('second half\r\n.')).raw).toMatch(/^250 2\.6\.0 Queued as /);
    expect((await client.command('MAIL FROM:<alice@example.com>')).raw).toMatch(/^421 /);
    expect(await served.exited).toBe(0);
    const queue = await cli(['queue', 'list', '--data', dir]);
    expect(queue.stdout).toMatch(/done|bob@example\.com=delivered|bob@example\.com=queued/);
  });

  it('lists the queue a page at a time, by cursor or from a position', async () => {
    const dir = await fillQueue(30, tempDir());
    const all = (await cli(['queue', 'list', '--data', dir])).stdout.trim().split('\n').map((line) => line.split('\t')[0]);
    expect(all).toHaveLength(30);
    const first = await cli(['queue', 'list', '--limit', '10', '--data', dir]);
    const cursor = /--after "([^"]+)"/.exec(first.stderr)?.[1] ?? '';
    expect(first.stderr).toContain('in the queue: 30 queued, 0 frozen, 0 finished (history); more: relaydesk queue list --after');
    const byCursor = (await cli(['queue', 'list', '--limit', '10', '--after', cursor, '--data', dir])).stdout.trim().split('\n').map((line) => line.split('\t')[0]);
    const byOffset = (await cli(['queue', 'list', '--limit', '10', '--offset', '10', '--data', dir])).stdout.trim().split('\n').map((line) => line.split('\t')[0]);
    expect(byCursor).toEqual(all.slice(10, 20));
    expect(byOffset).toEqual(all.slice(10, 20));
    expect((await cli(['queue', 'list', '--offset', '30', '--data', dir])).stdout).toBe('No more messages.\n');
    const both = await cli(['queue', 'list', '--offset', '1', '--after', cursor, '--data', dir]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give either --after or --offset, not both');
    expect((await cli(['queue', 'list', '--offset', '-1', '--data', dir])).code).toBe(2);
  });

  it('serves the web console behind the admin password set with admin set-password', async () => {
    const dir = await preparedDataDir();
    expect((await cli(['admin', 'set-password', '--password-stdin', '--data', dir], 'console-secret-1\n')).stdout).toBe('relaydesk: console password set\n');
    const served = await serve(dir, ['--console', '127.0.0.1:0']);
    const url = await eventually(() => /relaydesk: console on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(served.output())?.[1]);
    expect(served.output()).not.toContain('#setup=');
    const login = (password: string) => fetch(new URL('/api/login', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
    expect((await login('not-the-password')).status).toBe(401);
    const ok = await login('console-secret-1');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await fetch(url);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
  });

  it('round-trips the configuration through export and import, with and without secrets', async () => {
    const dir = await preparedDataDir();
    await cli(['user', 'add', 'alice', '--password-stdin', '--sender', 'sales@example.com', '--data', dir], PASSWORD);
    const plain = await cli(['config', 'export', '--data', dir]);
    expect(plain.stdout).not.toMatch(/PRIVATE KEY|scrypt\$/);
    const file = path.join(dir, 'plain.json');
    fs.writeFileSync(file, plain.stdout);
    expect((await cli(['config', 'import', file, '--data', dir])).code).toBe(0);
    expect((await cli(['config', 'export', '--data', dir])).stdout).toBe(plain.stdout);

    // Into an empty data folder the secrets are needed, and an export without them is refused whole.
    const fresh = tempDir();
    dirs.push(fresh);
    const refused = await cli(['config', 'import', file, '--data', fresh]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/users\[0\]\.passwordHash: user "alice" is new|certificates\[0\]\.keyPem/);
    expect(JSON.parse((await cli(['config', 'export', '--data', fresh])).stdout)).toMatchObject({ servers: [], users: [], certificates: [] });

    const secret = await cli(['config', 'export', '--with-secrets', '--data', dir]);
    expect(secret.stdout).toContain('PRIVATE KEY');
    const secretFile = path.join(dir, 'secret.json');
    fs.writeFileSync(secretFile, secret.stdout);
    expect((await cli(['config', 'import', secretFile, '--data', fresh])).code).toBe(0);
    expect((await cli(['config', 'export', '--with-secrets', '--data', fresh])).stdout).toBe(secret.stdout);
  });

  it('refuses an invalid import with the field named, and changes nothing', async () => {
    const dir = await preparedDataDir();
    const before = (await cli(['config', 'export', '--with-secrets', '--data', dir])).stdout;
    const doc = JSON.parse(before) as { servers: Array<Record<string, unknown>>; acceptedDomains: unknown[] };
    doc.acceptedDomains.push({ domain: 'new.example', action: 'drop', forwardTo: null });
    const second: Record<string, unknown> = { ...doc.servers[0], name: 'Second' };
    doc.servers.push(second);
    (doc.servers[0] as { port: number }).port = 2600;
    second.port = 2600;
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    const result = await cli(['config', 'import', file, '--data', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`relaydesk: servers[1].port: 127.0.0.1 port 2600 is already used by virtual server "${DEFAULT_SERVER_NAME}"\n`);
    fs.writeFileSync(file, '{ not json');
    expect((await cli(['config', 'import', file, '--data', dir])).stderr).toMatch(/is not readable JSON/);
    expect((await cli(['config', 'export', '--with-secrets', '--data', dir])).stdout).toBe(before);
  });
});

describe('relaydesk retention', () => {
  it('shows the defaults, changes what it is given, refuses nonsense with nothing changed, and a running serve follows the floor', async () => {
    const dir = await preparedDataDir();
    const shown = await cli(['retention', '--data', dir]);
    expect(shown.stdout).toContain('Delivered bodies:      removed from the spool at once');
    expect(shown.stdout).toContain('the smaller of 1024 MiB and 5 % of the disk');
    const changed = await cli(['retention', '--keep-delivered-days', '7', '--history-days', '90', '--data', dir]);
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('a copy kept 7 days');
    expect(changed.stdout).toContain('records kept 90 days');
    const refused = await cli(['retention', '--min-free-percent', '250', '--data', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/minFreePercent: .*100/);
    expect((await cli(['retention', '--data', dir])).stdout).toContain('the smaller of 1024 MiB and 5 % of the disk');
    // A running serve reads the floor at its next check: MAIL FROM is refused with 452 4.3.1.
    const served = await serve(dir);
    await cli(['user', 'add', 'alice', '--password-stdin', '--data', dir], PASSWORD);
    await cli(['retention', '--min-free-mib', '10000000', '--min-free-percent', '100', '--data', dir]);
    const client = await authenticatedSession(served.port);
    const refusedMail = await eventually(async () => {
      const reply = await client.command('MAIL FROM:<alice@example.com>');
      if (reply.code === 250) await client.command('RSET');
      return reply.code === 452 ? reply.raw : null;
    }, 15_000);
    expect(refusedMail).toBe('452 4.3.1 Insufficient system storage, try again later');
    client.close();
  }, 60_000);
});

describe('relaydesk log and serve --verbose', () => {
  it('prints the refusal of AUTH before TLS with its 530 and rule, and `relaydesk log` finds it through the same filter and formats', async () => {
    const dir = await preparedDataDir();
    const served = await serve(dir, ['--verbose']);
    const { client } = await RawSmtp.connect(served.port, { localAddress: '127.0.0.31' });
    await client.command('EHLO verbose.test');
    expect((await client.command('AUTH PLAIN AGFsaWNlAHg=')).raw).toBe('530 5.7.0 Must issue a STARTTLS command first');
    client.close();
    const line = await eventually(() => served.output().split('\n').find((l) => l.includes('127.0.0.31') && l.includes('530 5.7.0')), 5000);
    expect(line).toMatch(/AUTH PLAIN: refused → 530 5\.7\.0 Must issue a STARTTLS command first \[access:require-secure-channel\]$/);
    // The log is written in batches: give it a moment, then ask as a headless admin would.
    const text = await eventually(async () => {
      const out = (await cli(['log', '--client', '127.0.0.31', '--verdict', 'refuse', '--data', dir])).stdout;
      return out.includes('530') ? out : null;
    }, 5000);
    expect(text.trim()).toBe(line?.replace(/^relaydesk: /, '').trim());
    const csv = (await cli(['log', '--client', '127.0.0.31', '--format', 'csv', '--last', '10m', '--data', dir])).stdout.trim().split(/\r?\n/);
    expect(csv[0]).toBe('at,server,session,address,user,device,type,command,code,enhanced,text,rule,bytes_in,bytes_out');
    expect(csv.some((row) => row.includes(',530,5.7.0,') && row.includes('access:require-secure-channel'))).toBe(true);
    const w3c = (await cli(['log', '--client', '127.0.0.31', '--format', 'w3c', '--data', dir])).stdout;
    expect(w3c).toMatch(/^#Fields: date time c-ip cs-username/m);
    expect(w3c).toMatch(/ AUTH PLAIN 530 /);
    const json = (await cli(['log', '--client', '127.0.0.31', '--format', 'json', '--data', dir])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(json.map((e) => e.type)).toEqual(expect.arrayContaining(['connect', 'ehlo', 'auth', 'close']));
    expect((await cli(['log', '--client', '127.0.0.99', '--data', dir])).stdout.trim()).toBe('');
    expect((await cli(['log', '--verdict', 'maybe', '--data', dir])).stderr).toMatch(/--verdict takes allow, refuse or defer/);
  }, 60_000);
});
