// Hostile conditions, bounded in count and time, loopback only: a flood of 1,000 connections, a
// slowloris of 200, brute force from one address and from many, a full disk during DATA, and a
// locked store at start. After each, a legitimate client is still served.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ACCESS } from '../../server/contract/settings';
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';
import { openStore, type QueueEntry, STORE_FILE } from '../../server/store/store';
import { readSpooled } from '../../server/spool/spooled-body';
import { readBatchFile } from '../../server/spool/spool-format';
import { signedInClient } from '../helpers/smtp-session';
import { eventually, startTestApp, type TestApp, tempDir } from '../helpers/test-app';

const PASSWORD = 'correct horse battery';
const open: TestApp[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

async function submit(port: number, from: string, options: { auth?: [string, string] } = {}): Promise<string> {
  const { client, greeting } = await RawSmtp.connect(port, { localAddress: from });
  try {
    if (greeting.code !== 220) return greeting.raw;
    await client.command('EHLO legit.test');
    await client.startTls();
    await client.command('EHLO legit.test');
    if (options.auth) {
      const auth = await client.command(`AUTH PLAIN ${plainAuth(...options.auth)}`);
      if (auth.code !== 235) return auth.raw;
    }
    await client.command('MAIL FROM:<legit@example.com>');
    await client.command('RCPT TO:<boss@example.com>');
    await client.command('DATA');
    return (await client.command('Subject: still served\r\n\r\nhello\r\n.')).raw;
  } finally {
    client.close();
  }
}

/** A raw connection that reads only its greeting. */
function rawConnection(port: number, localAddress: string): Promise<{ socket: net.Socket; greeting: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      if (data.includes('\r\n')) resolve({ socket, greeting: data.split('\r\n')[0] as string });
    });
    socket.on('error', reject);
    socket.setTimeout(10_000, () => reject(new Error('no greeting')));
  });
}

describe('hostile conditions', () => {
  it('1,000 concurrent connections: limits hold, nothing crashes, and a normal client is served after', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'] });
    open.push(t);
    const connections = await Promise.all(Array.from({ length: 1000 }, (_, i) => rawConnection(t.port, `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`)));
    const admitted = connections.filter((c) => c.greeting.startsWith('220 ')).length;
    const refused = connections.filter((c) => /^421 .*Too many connected clients/.test(c.greeting)).length;
    console.log(`flood: ${admitted} admitted, ${refused} refused with 421 (limit ${t.app.store.listServers()[0]?.maxConnections})`);
    expect(admitted + refused).toBe(1000);
    expect(admitted).toBeLessThanOrEqual(100);
    for (const c of connections) c.socket.destroy();
    // Once the server has seen the flood's sockets close (a busy machine may take a moment), a
    // normal client is served again: tried until then, at most 10 s, each reply checked.
    const afterwards = await eventually(async () => {
      const reply = await submit(t.port, '127.0.9.9', { auth: ['alice', PASSWORD] });
      if (!/^(250|421) /.test(reply)) throw new Error(`unexpected reply after the flood: ${reply}`);
      return reply.startsWith('250 ') ? reply : null;
    }, 10_000);
    expect(afterwards).toMatch(/^250 2\.6\.0 Queued as /);
  }, 60_000);

  it('slowloris: 200 trickling connections from one address do not starve another client', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'], server: { maxConnections: 500 } });
    open.push(t);
    const slow = await Promise.all(Array.from({ length: 200 }, () => rawConnection(t.port, '127.0.0.5')));
    const trickle = setInterval(() => { for (const c of slow) if (!c.socket.destroyed) c.socket.write('E'); }, 200);
    try {
      expect(slow.filter((c) => c.greeting.startsWith('220 ')).length).toBe(DEFAULT_ACCESS.maxConnectionsPerAddress);
      expect(slow.filter((c) => c.greeting === '421 4.7.0 Too many connections from your address, try again later').length).toBe(200 - (DEFAULT_ACCESS.maxConnectionsPerAddress ?? 0));
      const started = Date.now();
      expect(await submit(t.port, '127.0.0.6', { auth: ['alice', PASSWORD] })).toMatch(/^250 2\.6\.0 Queued as /);
      console.log(`slowloris: a normal client submitted in ${Date.now() - started} ms while 200 slow connections trickled`);
    } finally {
      clearInterval(trickle);
      for (const c of slow) c.socket.destroy();
    }
  }, 60_000);

  it('brute force of 1,000 wrong passwords, from one address and from many, is throttled; others still get in', async () => {
    const t = await startTestApp({
      users: [{ name: 'alice', password: PASSWORD }, { name: 'bob', password: PASSWORD }],
      domains: ['example.com'],
      throttle: { slowAfter: 3, delayStepMs: 5, maxDelayMs: 20, blockAfter: 10, blockMs: 15 * 60_000 },
    });
    open.push(t);
    const outcomes = new Map<string, number>();
    const attempt = async (from: string, user: string) => {
      const { client, greeting } = await RawSmtp.connect(t.port, { localAddress: from });
      try {
        if (greeting.code !== 220) return greeting.code;
        await client.command('EHLO brute.test');
        await client.startTls();
        await client.command('EHLO brute.test');
        let code = 0;
        for (let i = 0; i < 10 && code !== 421; i++) code = (await client.command(`AUTH PLAIN ${plainAuth(user, `guess-${i}`)}`)).code;
        return code;
      } catch {
        return -1;
      } finally {
        client.close();
      }
    };
    // Alice's own scanner signed in from its usual address before the attack.
    expect(await submit(t.port, '127.0.5.9', { auth: ['alice', PASSWORD] })).toMatch(/^250 2\.6\.0 Queued as /);
    const started = Date.now();
    // Up to 500 guesses from one address (50 connections of 10, at "admin"), then up to 500 against alice from 50 addresses.
    for (let i = 0; i < 50; i++) { const c = await attempt('127.0.3.1', 'admin'); outcomes.set(`one:${c}`, (outcomes.get(`one:${c}`) ?? 0) + 1); }
    for (let i = 0; i < 50; i++) { const c = await attempt(`127.0.4.${i + 1}`, 'alice'); outcomes.set(`many:${c}`, (outcomes.get(`many:${c}`) ?? 0) + 1); }
    console.log(`brute force: up to 1,000 guesses attempted in ${Date.now() - started} ms; last replies per connection: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    // The first connection's ten guesses are answered 535 (slowed); from then on the address is blocked (421 and close).
    expect([outcomes.get('one:535'), outcomes.get('one:421')]).toEqual([1, 49]);
    // Against one user from many addresses: after ten failures alice is blocked at every address she never used (454).
    expect([outcomes.get('many:535'), outcomes.get('many:454')]).toEqual([1, 49]);
    // Bob from a fresh address is not affected by the attack on alice, nor by the blocked address.
    expect(await submit(t.port, '127.0.5.1', { auth: ['bob', PASSWORD] })).toMatch(/^250 2\.6\.0 Queued as /);
    expect(await submit(t.port, '127.0.5.2', { auth: ['alice', PASSWORD] })).toBe('454 4.7.0 Too many failed logins for this user, try again later');
    // ...but not at her usual address: a stranger who knows the user name cannot lock the scanner out.
    expect(await submit(t.port, '127.0.5.9', { auth: ['alice', PASSWORD] })).toMatch(/^250 2\.6\.0 Queued as /);
  }, 90_000);

  it('a full disk during DATA gives 452 4.3.1 at once, small or streamed, and loses nothing already accepted', async (ctx) => {
    const dir = tempDir();
    const spool = path.join(dir, 'spool');
    fs.mkdirSync(spool);
    if (!mountTmpfs(spool, '256k')) {
      fs.rmSync(dir, { recursive: true, force: true });
      ctx.skip('disk-full: cannot mount a small tmpfs here (needs root and mount rights)');
    }
    let running: TestApp | null = null;
    try {
      const t = await startTestApp({ dataDir: dir, users: [{ name: 'alice', password: PASSWORD }], domains: ['remote-held.example'] });
      running = t;
      const accepted: string[] = [];
      let full = '';
      for (let i = 0; i < 40 && !full; i++) {
        const { client } = await signedInClient(t.port, 'alice', PASSWORD, { ehlo: 'fill.test' });
        await client.command('MAIL FROM:<alice@example.com>');
        await client.command('RCPT TO:<far@elsewhere.net>');
        await client.command('DATA');
        const reply = (await client.command(`Subject: fill ${i}\r\n\r\n${'y'.repeat(20_000)}\r\n.`)).raw;
        client.close();
        if (reply.startsWith('250 ')) accepted.push(reply.split(' ').pop() as string);
        else full = reply;
      }
      expect(full).toBe('452 4.3.1 Insufficient system storage, try again later');
      expect(accepted.length).toBeGreaterThan(3);
      // A large message (streamed to disk, not gathered) on the full disk: the reply comes at once,
      // the session stays usable, and nothing is left half-written.
      const { client } = await signedInClient(t.port, 'alice', PASSWORD, { ehlo: 'fill.test' });
      await client.command('MAIL FROM:<alice@example.com>');
      await client.command('RCPT TO:<far@elsewhere.net>');
      await client.command('DATA');
      const streamed = await client.command(`Subject: big\r\n\r\n${`${'z'.repeat(998)}\r\n`.repeat(300)}.`);
      expect(streamed.raw).toBe('452 4.3.1 Insufficient system storage, try again later');
      expect((await client.command('NOOP')).code).toBe(250);
      client.close();
      expect(fs.readdirSync(path.join(spool, 'tmp'))).toEqual([]);
      // The index follows the 250s by up to 50 ms while mail flows.
      await eventually(() => accepted.every((id) => t.app.store.getMessage(id) !== null), 5000);
      // Every spool file with bytes in it holds accepted messages: the refused one's file went.
      const acceptedFiles = new Set(accepted.map((id) => t.app.store.getMessage(id)?.spoolPath));
      const queueDir = path.join(spool, 'queue');
      const withBytes = fs.readdirSync(queueDir).map((f) => path.join(queueDir, f)).filter((f) => fs.statSync(f).size > 0);
      expect(withBytes.filter((f) => !acceptedFiles.has(f))).toEqual([]);
      // A segment the refused group was appended to ends where its last accepted record ends:
      // the refused bytes were cut off, so no recovery can index (and deliver) what was refused.
      for (const file of withBytes) {
        const { records, passedOver } = readBatchFile(file);
        expect(passedOver).toBe(0);
        expect(records.every((r) => accepted.includes(r.id))).toBe(true);
        expect(fs.statSync(file).size).toBe(Math.max(...records.map((r) => r.bodyOffset + (r.bodyLength ?? 0))));
      }
      for (const id of accepted) {
        const entry = t.app.store.getMessage(id);
        expect(entry?.state).toBe('queued');
        expect((await readSpooled(entry as QueueEntry)).toString('latin1')).toContain(`Subject: fill ${accepted.indexOf(id)}`);
      }
      console.log(`disk-full: ${accepted.length} accepted before the disk filled, then ${full}`);
    } finally {
      // Stopped before the unmount even when an expectation failed, so that failure is the one reported.
      await running?.app.stop(50);
      execFileSync('umount', [spool]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a data folder whose disk fills: new mail gets 452 4.3.1 at MAIL FROM, and is accepted again when space is back', async (ctx) => {
    const dir = tempDir();
    if (!mountTmpfs(dir, '24m')) {
      fs.rmSync(dir, { recursive: true, force: true });
      ctx.skip('disk watch: cannot mount a tmpfs here (needs root and mount rights)');
    }
    let running: TestApp | null = null;
    try {
      const t = await startTestApp({ dataDir: dir, users: [{ name: 'alice', password: PASSWORD }], domains: ['example.com'], diskCheckMs: 100 });
      running = t;
      const mail = async () => {
        const { client } = await signedInClient(t.port, 'alice', PASSWORD, { ehlo: 'fill.test' });
        const reply = (await client.command('MAIL FROM:<alice@example.com>')).raw;
        client.close();
        return reply;
      };
      expect(await mail()).toMatch(/^250 /);
      // Something else fills the disk to 0.5 MiB free (the floor there is 5 % of 24 MiB = 1.2 MiB).
      const filler = path.join(dir, 'filler');
      const { bavail, bsize } = fs.statfsSync(dir);
      fs.writeFileSync(filler, Buffer.alloc(bavail * bsize - 512 * 1024));
      await eventually(() => t.app.diskWatch.low, 5000);
      expect(await mail()).toBe('452 4.3.1 Insufficient system storage, try again later');
      expect((await t.app.activeWarnings()).map((w) => w.id)).toEqual(['disk-low']);
      fs.rmSync(filler);
      await eventually(() => !t.app.diskWatch.low, 5000);
      expect(await mail()).toMatch(/^250 /);
      console.log('disk watch: refused at MAIL FROM with 0.5 MiB free on a 24 MiB disk, accepted again after space came back');
    } finally {
      await running?.app.stop(50); // before the unmount, so a failed expectation is what gets reported
      execFileSync('umount', [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a store locked by another process gives a clear message at start, not a crash', () => {
    const dir = tempDir();
    openStore({ dataDir: dir }).close();
    const holder = new Database(path.join(dir, STORE_FILE));
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('BEGIN EXCLUSIVE');
    try {
      expect(() => openStore({ dataDir: dir })).toThrow(/cannot open the store .*relaydesk\.db: database is locked \(another process holds it locked\)/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

/** Mount a tmpfs of this size on the folder; false where this machine does not allow it. */
function mountTmpfs(folder: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', folder], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
