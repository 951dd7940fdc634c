// Group commit in the spool: small messages accepted together share one flush, appended to one
// segment (a batch file) group after group; each is read back byte for byte, a segment whose
// last groups were never indexed is recovered record by record after a crash (a torn tail is not,
// a finished message's zeroed bytes are passed over), and finished messages leave the shared file
// at once; the file goes with its last message once the spool has let it go, never before.
// Real files, a real SQLite store; the spool is driven directly so the grouping is deterministic.
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { newQueueId } from '../../server/random-ids';
import { DEFAULT_LOG_SETTINGS } from '../../server/log/event-log';
import { Retention } from '../../server/spool/retention';
import { type IncomingMessage, Spool, SpoolError } from '../../server/spool/spool';
import { envelopeLine, readBatchRecords } from '../../server/spool/spool-format';
import { readSpooled, releaseSpooled } from '../../server/spool/spooled-body';
import { openStore, STORE_FILE, type AcceptedMessage, type Store } from '../../server/store/store';
import nodemailer from 'nodemailer';
import { eventually, startTestApp, type TestApp, tempDir } from '../helpers/test-app';

const dirs: string[] = [];
const stores: Store[] = [];
const apps: TestApp[] = [];
const spools: Spool[] = [];
afterEach(async () => {
  for (const t of apps.splice(0)) await t.close();
  for (const spool of spools.splice(0)) await spool.close(); // its spare files' handles
  for (const store of stores.splice(0)) if (store.isOpen()) store.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function setUp(dir = tempDir(), segmentIdleMs?: number): { dir: string; store: Store; spool: Spool } {
  if (!dirs.includes(dir)) dirs.push(dir);
  const store = openStore({ dataDir: dir });
  stores.push(store);
  const spool = new Spool({ dir: path.join(dir, 'spool'), store, now: () => new Date(), newId: newQueueId, ...(segmentIdleMs ? { segmentIdleMs } : {}) });
  spools.push(spool);
  return { dir, store, spool };
}

/** The store as another process (a CLI command) opens it beside the serving spool. */
function storeBeside(dir: string): Store {
  const store = openStore({ dataDir: dir });
  stores.push(store);
  return store;
}

const incoming: IncomingMessage = {
  serverName: 'Office', mailFrom: 'scanner@example.com', recipients: [{ address: 'far@elsewhere.net', domain: 'elsewhere.net', route: 'remote' }],
  clientAddress: '192.0.2.7', authUser: null, prependHeaders: (id) => `Received: from scanner (id ${id})\r\n`,
};

function accept(spool: Spool, body: string, limit: number | null = null): Promise<AcceptedMessage> {
  return spool.accept(Readable.from([Buffer.from(body)]), incoming, (size) => (limit !== null && size > limit ? new SpoolError(552, '5.3.4', 'too big') : null));
}

/**
 * Accept a lone message and a group at once: the lone one flushes by itself, and every message
 * that arrives while it is flushing shares the next flush. Returns the group (one batch file).
 */
async function acceptGroup(spool: Spool, numbers: number[]): Promise<AcceptedMessage[]> {
  const [, ...group] = await Promise.all([0, ...numbers].map((i) => accept(spool, bodyOf(i))));
  expect(new Set(group.map((m) => m.spoolPath)).size).toBe(1);
  await spool.drain(); // the index follows the 250 in the next check phase
  return group;
}

/** Linux: this process's open descriptors on files in `dir`, each with its open flags. */
function openDescriptorsIn(dir: string): { file: string; flags: number }[] {
  const found: { file: string; flags: number }[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let file: string;
    try {
      file = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile (the listing's own descriptor)
    }
    if (!file.startsWith(dir + path.sep)) continue;
    const flags = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0';
    found.push({ file, flags: parseInt(flags, 8) });
  }
  return found;
}

const bodyOf = (i: number) => `Subject: page ${i}\r\n\r\n${`scan ${i} `.repeat(50 + i)}\r\n`;

describe('group commit', () => {
  it('indexes a message at once when the index is idle, and spaces index commits while mail flows', async () => {
    const { store, spool } = setUp();
    const commits: number[] = [];
    spool.onCommitted((messages) => commits.push(messages.length));
    const first = await accept(spool, bodyOf(1));
    // Idle before it: indexed in the next check phase, no timer.
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.getMessage(first.id)).not.toBeNull();
    // One client after another, each waiting for its 250: 40 flushes, far fewer index commits.
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await accept(spool, bodyOf(i))).id);
    await eventually(() => ids.every((id) => store.getMessage(id) !== null), 2000);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(41);
    expect(commits.length).toBeLessThan(41);
    expect(commits.length).toBeGreaterThan(1);
  });

  it('commits messages accepted together with one batch file, each read back byte for byte', async () => {
    const { store, spool } = setUp();
    const committed: string[][] = [];
    spool.onCommitted((messages) => committed.push(messages.map((m) => m.id)));
    const big = `Subject: big\r\n\r\n${'b'.repeat(300 * 1024)}\r\n`; // over the 64 KiB group-commit limit
    const messages = await Promise.all([...Array.from({ length: 20 }, (_, i) => accept(spool, bodyOf(i))), accept(spool, big)]);
    await spool.drain();
    // The first message flushes alone; everything that arrived meanwhile shares the next flush.
    const smallFiles = new Set(messages.slice(0, 20).map((m) => path.basename(m.spoolPath)));
    expect(smallFiles.size).toBeLessThanOrEqual(2);
    // The large one is the one record of a batch file of its own.
    const largeFile = messages[20]?.spoolPath as string;
    expect(smallFiles.has(path.basename(largeFile))).toBe(false);
    expect(readBatchRecords(largeFile).map((r) => r.id)).toEqual([messages[20]?.id]);
    const files = [...smallFiles, path.basename(largeFile)];
    expect(files.every((f) => f.endsWith('.batch'))).toBe(true);
    // Whatever else is in the folder is a spare: an empty batch file made ahead of time.
    const spares = fs.readdirSync(spool.queueDir).filter((f) => !files.includes(f));
    expect(spares.map((f) => fs.statSync(path.join(spool.queueDir, f)).size)).toEqual(spares.map(() => 0));
    await spool.close();
    expect(fs.readdirSync(spool.queueDir).sort()).toEqual(files.sort());
    expect(committed.flat().sort()).toEqual(messages.map((m) => m.id).sort());
    for (const [i, message] of messages.entries()) {
      const entry = store.requireMessage(message.id);
      expect(entry).toMatchObject({ spoolPath: message.spoolPath, bodyOffset: message.bodyOffset, bodyLength: message.bodyLength, state: 'queued', body: 'spool' });
      const text = (await readSpooled(entry)).toString();
      expect(text).toBe(`Received: from scanner (id ${message.id})\r\n${i < 20 ? bodyOf(i) : big}`);
    }
    expect(store.countSpoolFiles()).toBe(files.length);
  });

  it.runIf(process.platform === 'linux')('writes groups through descriptors opened with O_DSYNC (durable when the write returns) and streams a large message through one without it (one flush at the end)', async () => {
    const { spool } = setUp();
    const [segment] = await acceptGroup(spool, [1, 2]);
    const spares = openDescriptorsIn(spool.queueDir);
    expect(spares.map((d) => d.file)).toContain(segment?.spoolPath); // the open segment, appended to by the next group
    expect(spares.every((d) => (d.flags & fs.constants.O_DSYNC) !== 0)).toBe(true);
    const stalled = new PassThrough();
    stalled.write(Buffer.from(`Subject: large\r\n\r\n${'a'.repeat(200 * 1024)}`));
    const accepting = spool.accept(stalled, incoming, () => null);
    const streaming = () => openDescriptorsIn(spool.queueDir).filter((d) => d.file !== segment?.spoolPath && fs.statSync(d.file).size > 0);
    await eventually(() => streaming().length === 1, 2000);
    expect((streaming()[0]?.flags ?? -1) & fs.constants.O_DSYNC).toBe(0);
    stalled.end(Buffer.from('\r\n'));
    const large = await accepting;
    expect(openDescriptorsIn(spool.queueDir).map((d) => d.file)).not.toContain(large.spoolPath);
  });

  it('refuses an over-limit small message without writing it, and commits the others', async () => {
    const { store, spool } = setUp();
    const [kept, refused] = await Promise.allSettled([accept(spool, bodyOf(1), 10_000), accept(spool, bodyOf(2).repeat(40), 10_000)]);
    expect(kept.status).toBe('fulfilled');
    expect(refused).toMatchObject({ status: 'rejected', reason: { code: 552 } });
    await spool.drain();
    const records = fs.readdirSync(spool.queueDir).flatMap((f) => readBatchRecords(path.join(spool.queueDir, f)));
    expect(records.map((r) => r.id)).toEqual([(kept as PromiseFulfilledResult<AcceptedMessage>).value.id]);
    expect(store.countSpoolFiles()).toBe(1);
  });

  it('streams a large message into a file of its own as one record: a crash mid-stream leaves nothing, a refusal leaves nothing, a kept copy is whole', async () => {
    const { store, spool } = setUp();
    // A client part-way through a 300 KiB message: 200 KiB sent, the rest not yet.
    const stalled = new PassThrough();
    const head = `Subject: large\r\n\r\n${'a'.repeat(200 * 1024)}`;
    stalled.write(Buffer.from(head));
    const accepting = spool.accept(stalled, incoming, () => null);
    const queueFile = () => fs.readdirSync(spool.queueDir).map((f) => path.join(spool.queueDir, f)).find((f) => fs.statSync(f).size > 0);
    await eventually(() => queueFile() !== undefined, 2000);
    // The crash, at this moment: another data folder gets the spool as it is on disk now.
    const crashed = setUp();
    const copy = path.join(crashed.spool.queueDir, path.basename(queueFile() as string));
    fs.copyFileSync(queueFile() as string, copy);
    expect(fs.readFileSync(copy)[0]).toBe(0); // the record line comes last, before the flush
    expect(crashed.spool.recover()).toEqual({ removed: 1, reindexed: 0, unreadable: [] });
    expect(fs.existsSync(copy)).toBe(false);
    expect(crashed.store.listQueue()).toEqual([]);
    // The client finishes: the message is the one record of its file, byte for byte.
    stalled.end(Buffer.from(`${'b'.repeat(100 * 1024)}\r\n`));
    const large = await accepting;
    expect(readBatchRecords(large.spoolPath)).toEqual([expect.objectContaining({ id: large.id, size: large.size, bodyOffset: large.bodyOffset, bodyLength: large.bodyLength })]);
    expect(large.size).toBe(300 * 1024 + Buffer.byteLength('Subject: large\r\n\r\n') + 2);
    await spool.drain();
    const text = (await readSpooled(store.requireMessage(large.id))).toString();
    expect(text).toBe(`Received: from scanner (id ${large.id})\r\n${head}${'b'.repeat(100 * 1024)}\r\n`);
    // Over the size limit: refused, and its file goes.
    const before = fs.readdirSync(spool.queueDir).filter((f) => fs.statSync(path.join(spool.queueDir, f)).size > 0);
    await expect(accept(spool, `Subject: too big\r\n\r\n${'c'.repeat(100 * 1024)}\r\n`, 90 * 1024)).rejects.toMatchObject({ code: 552 });
    expect(fs.readdirSync(spool.queueDir).filter((f) => fs.statSync(path.join(spool.queueDir, f)).size > 0)).toEqual(before);
    // Delivered and kept: a copy of its own, and the record's file goes.
    const retention = new Retention({ store, queueDir: spool.queueDir, keptDir: spool.keptDir, now: () => new Date(), settings: () => ({ ...DEFAULT_LOG_SETTINGS, keepDeliveredDays: 7 }) });
    store.recordDelivery(large.id, ['far@elsewhere.net'], { state: 'delivered', reply: '250 ok' });
    await retention.finish(store.requireMessage(large.id));
    expect(fs.existsSync(large.spoolPath)).toBe(false);
    expect((await readSpooled(store.requireMessage(large.id))).toString()).toBe(text);
  });

  it('still recovers and reads a message file of its own left by an earlier version (.eml with its envelope line)', async () => {
    const { store, spool } = setUp();
    const fields = { id: newQueueId(), serverName: 'Office', receivedAt: new Date().toISOString(), mailFrom: 'old@example.com', clientAddress: '192.0.2.9', authUser: null, recipients: incoming.recipients };
    const file = path.join(spool.queueDir, `${fields.id}.eml`);
    fs.writeFileSync(file, `${envelopeLine(fields)}Received: from old\r\nSubject: from before\r\n\r\nold body\r\n`);
    expect(spool.recover()).toEqual({ removed: 0, reindexed: 1, unreadable: [] });
    const entry = store.requireMessage(fields.id);
    expect(entry).toMatchObject({ spoolPath: file, bodyLength: null, mailFrom: 'old@example.com', state: 'queued' });
    expect((await readSpooled(entry)).toString()).toBe('Received: from old\r\nSubject: from before\r\n\r\nold body\r\n');
  });

  it('after a crash: recovers the records of the open segment the index lacks, past a finished (zeroed) one, and not a torn one', async () => {
    const { dir, store, spool } = setUp();
    const retention = new Retention({ store, queueDir: spool.queueDir, keptDir: spool.keptDir, now: () => new Date(), settings: () => DEFAULT_LOG_SETTINGS });
    const [finished, waiting] = (await acceptGroup(spool, [1, 2])) as [AcceptedMessage, AcceptedMessage];
    store.recordDelivery(finished.id, ['far@elsewhere.net'], { state: 'delivered', reply: '250 ok' });
    await retention.finish(store.requireMessage(finished.id)); // its bytes are zeroed in place
    const group = await acceptGroup(spool, [3, 4, 5, 6, 7, 8]);
    const segment = group[0]?.spoolPath as string;
    expect(finished.spoolPath).toBe(segment); // groups go on into the open segment
    expect(store.openSpoolSegments()).toEqual([segment]);
    store.close();
    stores.splice(stores.indexOf(store), 1);
    // As if the process died after the group's flush but before its index commit, with its last
    // record cut short (a later group torn mid-write would look the same to recovery). The index
    // knows the file by its earlier groups.
    const db = new Database(path.join(dir, STORE_FILE));
    db.prepare(`DELETE FROM messages WHERE id IN (${group.map(() => '?').join(', ')})`).run(...group.map((m) => m.id));
    db.close();
    const last = group[5] as AcceptedMessage;
    fs.truncateSync(segment, last.bodyOffset + (last.bodyLength as number) - 10);

    const again = setUp(dir);
    expect(fs.readdirSync(again.spool.queueDir).length).toBeGreaterThan(2); // the crashed spool's spare files are there too
    expect(again.spool.recover()).toEqual({ removed: 0, reindexed: 5, unreadable: [] });
    // Empty spares held nothing: they go, and only the segment stays.
    expect(fs.readdirSync(again.spool.queueDir)).toEqual([path.basename(segment)]);
    for (const message of group.slice(0, 5)) {
      const entry = again.store.requireMessage(message.id);
      expect(entry).toMatchObject({ state: 'queued', mailFrom: 'scanner@example.com', size: message.size, bodyLength: message.bodyLength, clientAddress: '192.0.2.7' });
      expect(entry.recipients).toEqual([expect.objectContaining({ address: 'far@elsewhere.net', route: 'remote', state: 'queued' })]);
      expect((await readSpooled(entry)).toString()).toContain(`Subject: page ${group.indexOf(message) + 3}\r\n`);
    }
    expect(again.store.getMessage(last.id)).toBeNull();
    // The finished one stays finished (not delivered again), the other waits as before.
    expect(again.store.requireMessage(finished.id)).toMatchObject({ state: 'done', body: 'removed' });
    expect(again.store.requireMessage(waiting.id)).toMatchObject({ state: 'queued', body: 'spool' });
    expect(again.store.openSpoolSegments()).toEqual([]);
    // The next start finds every file accounted for and does no work.
    expect(again.spool.recover()).toEqual({ removed: 0, reindexed: 0, unreadable: [] });
  });

  it('after a crash, looks at every file even when the counts agree (a large message acknowledged but not indexed, and a just-removed file, cancel out)', async () => {
    const { dir, store, spool } = setUp();
    expect(spool.recover()).toEqual({ removed: 0, reindexed: 0, unreadable: [] });
    const delivered = await accept(spool, `Subject: large\r\n\r\n${'l'.repeat(100 * 1024)}\r\n`);
    await acceptGroup(spool, [1, 2, 3]);
    const unindexed = await accept(spool, `Subject: large too\r\n\r\n${'m'.repeat(100 * 1024)}\r\n`);
    await spool.drain();
    // The crash: the first large message was delivered and its file removed, but its record not
    // yet updated; the second was acknowledged (a file of its own), but not yet indexed.
    store.recordDelivery(delivered.id, ['far@elsewhere.net'], { state: 'delivered', reply: '250 ok' });
    fs.rmSync(delivered.spoolPath);
    store.close();
    stores.splice(stores.indexOf(store), 1);
    const db = new Database(path.join(dir, STORE_FILE));
    db.prepare('DELETE FROM messages WHERE id = ?').run(unindexed.id);
    db.close();
    for (const f of fs.readdirSync(path.join(dir, 'spool', 'queue'))) {
      if (fs.statSync(path.join(dir, 'spool', 'queue', f)).size === 0) fs.rmSync(path.join(dir, 'spool', 'queue', f)); // spares, so that the counts agree
    }
    const again = setUp(dir);
    expect(fs.readdirSync(again.spool.queueDir)).toHaveLength(again.store.countSpoolFiles());
    expect(again.spool.recover()).toEqual({ removed: 0, reindexed: 1, unreadable: [] });
    expect(again.store.requireMessage(unindexed.id).state).toBe('queued');
    expect((await readSpooled(again.store.requireMessage(unindexed.id))).toString()).toContain('Subject: large too\r\n');
  });

  it('records a clean stop only for the serving spool with everything indexed; a start clears it', async () => {
    const { dir, store, spool } = setUp();
    const bystander = new Spool({ dir: path.join(dir, 'spool'), store, now: () => new Date(), newId: newQueueId });
    await bystander.close(); // a CLI command's App: never recovered, says nothing about the serving one
    expect(store.getMeta('spool.clean-stop')).toBeNull();
    spool.recover();
    expect(store.getMeta('spool.clean-stop')).toBe('no');
    await acceptGroup(spool, [1, 2]);
    await spool.close();
    expect(store.getMeta('spool.clean-stop')).toBe('yes');
    expect(setUp(dir).spool.recover()).toEqual({ removed: 0, reindexed: 0, unreadable: [] });
    expect(store.getMeta('spool.clean-stop')).toBe('no');
  });

  it('a finished message leaves the shared file at once (zeroed); the file goes with its last message once the spool lets the segment go, not before', async () => {
    const { dir, store, spool } = setUp(undefined, 300);
    const group = await acceptGroup(spool, [1, 2, 3]);
    const batch = group[0]?.spoolPath as string;
    const inBatch = store.listQueue().filter((m) => m.spoolPath === batch);
    expect(inBatch).toHaveLength(4); // the group and the message flushed before it
    let keepDays = 0;
    const retention = new Retention({ store, queueDir: spool.queueDir, keptDir: spool.keptDir, now: () => new Date(), settings: () => ({ ...DEFAULT_LOG_SETTINGS, keepDeliveredDays: keepDays }) });
    const finish = async (message: Pick<AcceptedMessage, 'id'>) => {
      store.recordDelivery(message.id, ['far@elsewhere.net'], { state: 'delivered', reply: '250 ok' });
      await retention.finish(store.requireMessage(message.id));
    };
    const [first, second, third] = group as [AcceptedMessage, AcceptedMessage, AcceptedMessage];
    await finish(first);
    expect(store.requireMessage(first.id).body).toBe('removed');
    const bytes = fs.readFileSync(batch);
    expect(bytes.subarray(first.bodyOffset, first.bodyOffset + (first.bodyLength as number)).every((b) => b === 0)).toBe(true);
    expect(bytes.toString('latin1')).not.toContain('Subject: page 1\r\n');
    expect((await readSpooled(store.requireMessage(second.id))).toString()).toContain('Subject: page 2\r\n');
    // Kept copies are files of their own, readable after the batch file is gone.
    keepDays = 7;
    await finish(second);
    const kept = store.requireMessage(second.id);
    expect(kept).toMatchObject({ body: 'kept', spoolPath: path.join(spool.keptDir, `${second.id}.eml`), bodyOffset: 0, bodyLength: null });
    for (const message of inBatch.filter((m) => m.id !== first.id && m.id !== second.id)) await finish(message);
    // Nothing in it is unfinished, but the spool still appends to it: it stays, and another
    // process (a CLI command) sees it listed as open.
    expect(store.holdsSpooledBody(batch)).toBe(false);
    expect(fs.existsSync(batch)).toBe(true);
    const cli = storeBeside(dir);
    expect(cli.openSpoolSegments()).toEqual([batch]);
    // Idle for the segment's wait: let go, and the file goes with it.
    await eventually(() => !fs.existsSync(batch), 3000);
    expect(cli.openSpoolSegments()).toEqual([]);
    expect((await readSpooled(kept)).toString()).toBe(`Received: from scanner (id ${second.id})\r\n${bodyOf(2)}`);
    // The next message opens a new segment.
    const next = await accept(spool, bodyOf(9));
    expect(next.spoolPath).not.toBe(batch);
    expect(third.spoolPath).toBe(batch);
  });

  it('a message deleted by another process (the CLI) leaves an open segment in place: the group appended next is intact', async () => {
    const { dir, store, spool } = setUp();
    const first = await accept(spool, bodyOf(1));
    await spool.drain();
    const cli = storeBeside(dir);
    const deleted = cli.deleteMessage(first.id);
    await releaseSpooled(deleted, cli); // what `relaydesk queue delete` does beside a running serve
    expect(fs.existsSync(first.spoolPath)).toBe(true);
    const next = await accept(spool, bodyOf(2));
    await spool.drain();
    expect(next.spoolPath).toBe(first.spoolPath);
    expect((await readSpooled(store.requireMessage(next.id))).toString()).toBe(`Received: from scanner (id ${next.id})\r\n${bodyOf(2)}`);
    // Let go at the stop: it still holds a message, so it stays, no longer listed as open.
    await spool.close();
    expect(fs.existsSync(first.spoolPath)).toBe(true);
    expect(store.openSpoolSegments()).toEqual([]);
    expect(readBatchRecords(first.spoolPath).map((r) => r.id)).toEqual([next.id]);
  });

  it("keeps each process's open segment listed: a report a CLI command queues beside the serving spool does not unlist the serving one", async () => {
    const { dir, store, spool } = setUp();
    const served = await accept(spool, bodyOf(1));
    await spool.drain();
    // `relaydesk queue delete ID --ndr` queues its report through a spool of its own.
    const cliStore = storeBeside(dir);
    const cliSpool = new Spool({ dir: path.join(dir, 'spool'), store: cliStore, now: () => new Date(), newId: newQueueId });
    spools.push(cliSpool);
    const report = await accept(cliSpool, bodyOf(2));
    expect(report.spoolPath).not.toBe(served.spoolPath);
    expect(store.openSpoolSegments().sort()).toEqual([served.spoolPath, report.spoolPath].sort());
    await cliSpool.drain();
    cliSpool.letGoOfSegment(); // as the CLI does before it closes its store
    expect(store.openSpoolSegments()).toEqual([served.spoolPath]);
    expect(fs.existsSync(report.spoolPath)).toBe(true); // it holds the report
    const next = await accept(spool, bodyOf(3));
    expect(next.spoolPath).toBe(served.spoolPath);
  });

  it('appends group after group to one segment until it holds 512 KiB, then starts another: a new file per half megabyte, not per group', async () => {
    const { store, spool } = setUp();
    const bodyFor = (i: number) => `Subject: roll ${i}\r\n\r\n${String(i % 10).repeat(20 * 1024)}\r\n`;
    const messages: AcceptedMessage[] = [];
    for (let i = 0; i < 40; i++) messages.push(await accept(spool, bodyFor(i))); // 40 flushes of one message each
    await spool.drain();
    const files = [...new Set(messages.map((m) => m.spoolPath))];
    expect(files).toHaveLength(2);
    const firstSize = fs.statSync(files[0] as string).size;
    expect(firstSize).toBeGreaterThanOrEqual(512 * 1024);
    expect(firstSize).toBeLessThan(512 * 1024 + 21 * 1024);
    expect(readBatchRecords(files[0] as string).length + readBatchRecords(files[1] as string).length).toBe(40);
    for (const [i, message] of messages.entries()) {
      expect((await readSpooled(store.requireMessage(message.id))).toString()).toBe(`Received: from scanner (id ${message.id})\r\n${bodyFor(i)}`);
    }
    // The full one was let go once its groups were indexed; the other is still appended to.
    expect(store.openSpoolSegments()).toEqual([files[1]]);
  });

  it('at start removes a batch file whose messages were all finished before a crash removed it', async () => {
    const { store, spool } = setUp();
    const group = await acceptGroup(spool, [1, 2]);
    const batch = group[0]?.spoolPath as string;
    // As if the process died between the last record saying "removed" and the file's removal.
    for (const message of store.listQueue()) {
      store.recordDelivery(message.id, ['far@elsewhere.net'], { state: 'delivered', reply: '250 ok' });
      store.setMessageBody(message.id, 'removed');
    }
    expect(spool.recover()).toEqual({ removed: 1, reindexed: 0, unreadable: [] });
    expect(fs.existsSync(batch)).toBe(false);
    expect(fs.readdirSync(spool.queueDir)).toEqual([]); // the spares were empty: they went too
  });

  it('answers 250 once the spool is durable; a failing index raises a warning, and takes the message when it works again', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: 'index-test-password' }], domains: ['example.com'], server: { delivery: { holdRemote: true } } });
    apps.push(t);
    // The store refuses new queue rows (as a full or damaged database would), through a trigger
    // that another connection installs; everything else in the store keeps working.
    const other = new Database(path.join(t.dir, STORE_FILE));
    other.exec("CREATE TRIGGER refuse_queue BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: t.port, requireTLS: true, tls: { ca: t.caPem, servername: 'localhost' }, auth: { user: 'alice', pass: 'index-test-password' } });
    const info = await client.sendMail({ envelope: { from: 'alice@example.com', to: ['far@elsewhere.net'] }, raw: 'Subject: while refused\r\n\r\nsafe in the spool\r\n' });
    const id = info.response.split(' ').pop() as string;
    expect(info.response).toMatch(/^250 /);
    const warning = await eventually(async () => (await t.app.activeWarnings()).find((w) => w.id === 'queue-index'));
    expect(warning.message).toMatch(/^1 accepted message\(s\) could not be added to the queue index \(database or disk is full\)\. They are safe in the spool/);
    expect(t.app.store.getMessage(id)).toBeNull();
    other.exec('DROP TRIGGER refuse_queue');
    other.close();
    await eventually(() => t.app.store.getMessage(id) !== null, 5_000);
    expect(t.app.store.requireMessage(id)).toMatchObject({ state: 'queued', body: 'spool', recipients: [expect.objectContaining({ address: 'far@elsewhere.net' })] });
    expect((await readSpooled(t.app.store.requireMessage(id))).toString()).toContain('safe in the spool');
    expect((await t.app.activeWarnings()).some((w) => w.id === 'queue-index')).toBe(false);
  }, 30_000);

  it('checkpoints the store from a worker thread while serving: the main connection only keeps a far safety net', async () => {
    const t = await startTestApp({ users: [{ name: 'alice', password: 'index-test-password' }], domains: ['example.com'], server: { delivery: { holdRemote: true } } });
    apps.push(t);
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: t.port, requireTLS: true, tls: { ca: t.caPem, servername: 'localhost' }, auth: { user: 'alice', pass: 'index-test-password' } });
    const info = await client.sendMail({ envelope: { from: 'alice@example.com', to: ['far@elsewhere.net'] }, raw: 'Subject: checkpointed\r\n\r\nx\r\n' });
    const id = info.response.split(' ').pop() as string;
    // The database file alone (copied without its WAL) has the message once a checkpoint ran;
    // the main connection would only checkpoint by itself after 20,000 pages.
    const copy = path.join(t.dir, 'copy.db');
    await eventually(() => {
      fs.copyFileSync(path.join(t.dir, STORE_FILE), copy);
      const db = new Database(copy, { readonly: true });
      try {
        return db.prepare('SELECT id FROM messages WHERE id = ?').get(id) !== undefined;
      } finally {
        db.close();
      }
    }, 5_000);
  }, 30_000);
});
