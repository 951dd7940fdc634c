// The durable spool. Small messages (most mail: scanners, applications) are committed in groups:
// every small message accepted while the previous group was being flushed is appended to the open
// segment — a batch file in spool/queue, made empty ahead of time so its name is already durable
// — in one durable write (O_DSYNC on Linux, write + fdatasync elsewhere), and only then are all
// of them answered 250: one durable flush for many messages (group commit). Groups go on into the
// same segment until it is full: creating a file costs the kernel more than the write (see
// segments.ts). Each record in a batch file starts with an envelope line that carries its
// length and CRC-32, so the file alone is the durable record; the group is added to the SQLite
// queue index right after the replies (one transaction, off the reply's path). The open segments
// are listed in the store: nothing removes them, and after a crash each is read in full and its
// records the index lacks are indexed again; so is any other batch file the index lacks. A torn
// tail (never acknowledged) is ignored. Large
// messages are streamed (never held whole in memory) into a batch file of their own as its one
// record, the line written after the body, and flushed by themselves: one fdatasync, no rename,
// no folder fsync. Message files of their own (.eml, spooled by earlier versions) are still read
// and recovered. All writes and flushes run on libuv's threadpool; the event loop never waits
// for the disk.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { AcceptedMessage, QueuedRecipient, Store } from '../store/store';
import { digestFrom, digestStart, hasDigest } from '../store/queue-tables';
import { type BatchFile, closeQuietly, discardBatchFile, eachName, fdatasync, openForStreaming, openNewFile, readSmall, removeUnacknowledged, type SmallRead, streamAt, writeAll } from './spool-files';
import { BATCH_SUFFIX, type EnvelopeFields, largeRecordLineBytes, paddedRecordLine, readBatchRecords, readEnvelope } from './spool-format';
import { OpenSegments, recoverOpenSegments, type Segment } from './segments';

export interface SpoolDeps {
  /** Spool folder (messages live in its "queue" sub-folder). */
  dir: string;
  store: Store;
  now(): Date;
  newId(): string;
  /** How long the open segment waits for more groups before it is let go (segments.ts; tests shorten it). */
  segmentIdleMs?: number;
}

export interface IncomingMessage {
  serverName: string;
  mailFrom: string;
  recipients: QueuedRecipient[];
  clientAddress: string;
  authUser: string | null;
  /** Header lines the engine prepends (Received:), CRLF-terminated. */
  prependHeaders(id: string): string;
}

export class SpoolError extends Error {
  constructor(public readonly code: number, public readonly enhanced: string, message: string) {
    super(message);
  }
}

/** No space (file system or SQLite) is 452 4.3.1; any other write failure 451 4.3.0. Both are answered at once. */
export function spoolErrorOf(err: unknown): SpoolError {
  if (err instanceof SpoolError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return new SpoolError(452, '4.3.1', 'Insufficient system storage, try again later');
  return new SpoolError(451, '4.3.0', 'Local error in processing, try again later');
}

interface PendingCommit {
  message: AcceptedMessage;
  /** A small message's bytes (Received: header and body), written into the group's batch file; null when it has a file of its own. */
  data: Buffer[] | null;
  resolve(): void;
  reject(err: Error): void;
}

export class Spool {
  readonly queueDir: string;
  readonly tmpDir: string;
  /** Copies of delivered messages, when the admin keeps them (see retention.ts). */
  readonly keptDir: string;
  private pending: PendingCommit[] = [];
  private flushing = false;
  /** spool/queue, open for the life of the spool: each group's folder fsync needs no open/close. */
  private queueDirHandle: Promise<fs.promises.FileHandle> | null = null;
  private readonly committedListeners = new Set<(messages: readonly AcceptedMessage[]) => void>();
  private readonly indexFailedListeners = new Set<(err: Error | null, waiting: number) => void>();
  /** The index refused the last commit (listeners hear of the first failure and of the recovery, not every retry). */
  private indexFailing = false;
  /** Durable and acknowledged, not yet in the index (it is added in the next check phase). */
  private unindexed: AcceptedMessage[] = [];
  private spares: BatchFile[] = [];
  private readonly segments: OpenSegments;
  private refilling: Promise<void> | null = null;
  private closed = false;
  /** This spool ran recover(): it is the serving one (a CLI command's App never recovers or accepts). */
  private recovered = false;
  /** Cancels the scheduled index commit (next check phase, or a retry); null when none is scheduled. */
  private indexScheduled: (() => void) | null = null;
  /** When the index was last written (performance.now()): commits are spaced while mail flows. */
  private lastIndexedAt = -Infinity;

  constructor(private readonly deps: SpoolDeps) {
    this.queueDir = path.join(deps.dir, 'queue');
    this.tmpDir = path.join(deps.dir, 'tmp');
    this.keptDir = path.join(deps.dir, 'kept');
    this.segments = new OpenSegments({
      store: deps.store, takeBatchFile: () => this.takeBatchFile(), flushing: () => this.flushing,
      allIndexed: () => this.unindexed.length === 0, ...(deps.segmentIdleMs ? { idleMs: deps.segmentIdleMs } : {}),
    });
    fs.mkdirSync(this.queueDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  /** Called with every group of messages once it is durable and indexed (delivery workers wake on it). */
  onCommitted(listener: (messages: readonly AcceptedMessage[]) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  /**
   * Called when acknowledged messages could not be added to the index (store full or locked),
   * and again with err null once they were. They are safe in the spool meanwhile; the index is
   * tried again every second, and at start.
   */
  onIndexFailed(listener: (err: Error | null, waiting: number) => void): () => void {
    this.indexFailedListeners.add(listener);
    return () => this.indexFailedListeners.delete(listener);
  }

  /**
   * Read a message into the spool and make it durable. Resolves once it is safe to say 250.
   * `check` runs after the body was read (size limits); returning an error discards it.
   */
  async accept(stream: Readable, incoming: IncomingMessage, check: (size: number) => SpoolError | null): Promise<AcceptedMessage> {
    const id = this.deps.newId();
    const receivedAt = this.deps.now().toISOString();
    const head = Buffer.from(incoming.prependHeaders(id));
    const fields: EnvelopeFields = {
      id, serverName: incoming.serverName, receivedAt, mailFrom: incoming.mailFrom, clientAddress: incoming.clientAddress,
      authUser: incoming.authUser, recipients: incoming.recipients,
    };
    let read: SmallRead;
    try {
      read = await readSmall(stream, SMALL_MESSAGE_BYTES - head.length);
    } catch (err) {
      throw spoolErrorOf(err);
    }
    if (read.rest) return this.acceptLarge(fields, head, read.chunks, read.rest, check);
    const refusal = check(read.size);
    if (refusal) throw refusal;
    // Where it lands in the batch file is known when the group is written (flush()).
    const message: AcceptedMessage = { ...fields, size: read.size, spoolPath: '', bodyOffset: 0, bodyLength: head.length + read.size };
    await this.commit(message, [head, ...read.chunks]);
    return message;
  }

  /**
   * A message too large to hold: streamed into a batch file of its own as its one record — the
   * body first, after room for the record line, then the line with the body's length and CRC, and
   * one fdatasync. A spare file's name is durable already, so the message needs no rename and no
   * folder fsync: it is answered at once and joins the next index commit. A crash before the line
   * was written leaves a file that starts with zeros, which recovery removes (never acknowledged).
   */
  private async acceptLarge(fields: EnvelopeFields, head: Buffer, first: Buffer[], rest: AsyncIterator<Buffer>, check: (size: number) => SpoolError | null): Promise<AcceptedMessage> {
    let target: BatchFile | null = null;
    let message: AcceptedMessage;
    try {
      target = await this.takeBatchFile();
      // A descriptor of its own whose writes wait for nothing: one flush at the end, not one per piece.
      const syncingFd = target.fd;
      target = { ...target, fd: await openForStreaming(target.file) };
      closeQuietly(syncingFd);
      const lineBytes = largeRecordLineBytes(fields);
      const { length, crc } = await streamAt(target.fd, lineBytes, [head, ...first], rest);
      const size = length - head.length;
      const refusal = check(size);
      if (refusal) throw refusal;
      message = { ...fields, size, spoolPath: target.file, bodyOffset: lineBytes, bodyLength: length };
      const line = paddedRecordLine(message, crc, lineBytes);
      await writeAll(target.fd, [line], line.length, 0);
      await fdatasync(target.fd);
    } catch (err) {
      if (target) discardBatchFile(target);
      throw spoolErrorOf(err);
    }
    closeQuietly(target.fd);
    if (target.named) {
      this.indexSoon([message]);
      return message;
    }
    try {
      await this.commit(message, null); // a new file: durable once the queue folder is fsync'ed
    } catch (err) {
      await fs.promises.unlink(message.spoolPath).catch(() => undefined);
      throw err;
    }
    return message;
  }

  /** Join the next group; settles when that group is durable and indexed (or failed). */
  private async commit(message: AcceptedMessage, data: Buffer[] | null): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.pending.push({ message, data, resolve, reject });
        this.kick();
      });
    } catch (err) {
      throw spoolErrorOf(err);
    }
  }

  /** Wait until every message handed to accept() so far is durable, and index it (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
    // One last try; what still fails is indexed from the spool at the next start.
    this.indexScheduled?.();
    this.indexScheduled = null;
    if (this.unindexed.length > 0) this.indexNow(false);
  }

  /**
   * After drain(): append no more to the open segment, and unlist it (at once: no await, so a
   * CLI command that queued a report closes its store right after).
   */
  letGoOfSegment(): void {
    this.segments.letGo();
  }

  /** After drain(): let go of the open segment and the queue folder's handle; the next start may trust the index's counts. */
  async close(): Promise<void> {
    this.letGoOfSegment();
    const everythingIndexed = this.unindexed.length === 0 && this.pending.length === 0;
    if (this.recovered && !this.closed && everythingIndexed && this.deps.store.isOpen()) this.deps.store.setMeta(CLEAN_STOP_KEY, 'yes');
    this.closed = true;
    await this.refilling;
    for (const spare of this.spares.splice(0)) discardBatchFile(spare);
    const handle = this.queueDirHandle;
    this.queueDirHandle = null;
    if (handle) await (await handle.catch(() => null))?.close();
  }

  /** A spare batch file when there is one (and make more in the background), else a new file. */
  private async takeBatchFile(): Promise<BatchFile> {
    const spare = this.spares.shift();
    this.refillSpares();
    if (spare) return spare;
    const file = path.join(this.queueDir, `${this.deps.newId()}${BATCH_SUFFIX}`);
    return { file, fd: await openNewFile(file), named: false };
  }

  private refillSpares(): void {
    if (this.refilling || this.closed || process.platform === 'win32' || this.spares.length >= SPARE_REFILL_BELOW) return;
    this.refilling = (async () => {
      const made: BatchFile[] = [];
      try {
        while (this.spares.length + made.length < SPARE_BATCH_FILES) {
          const file = path.join(this.queueDir, `${this.deps.newId()}${BATCH_SUFFIX}`);
          made.push({ file, fd: await openNewFile(file), named: true });
        }
        await this.syncQueueFolder();
        if (this.closed) throw new Error('closed');
        this.spares.push(...made);
      } catch {
        // Not needed for correctness: a flush without a spare makes its own file.
        for (const spare of made) discardBatchFile(spare);
      } finally {
        this.refilling = null;
      }
    })();
  }

  /**
   * After a crash: files in tmp/ were never acknowledged and go; files in queue/ may hold
   * acknowledged messages (their folder was fsync'ed before the 250), and any message the index
   * lacks is indexed from its envelope. A batch file whose messages are all finished goes.
   */
  recover(): { removed: number; reindexed: number; unreadable: string[] } {
    let removed = 0;
    for (const name of eachName(this.tmpDir)) {
      fs.rmSync(path.join(this.tmpDir, name), { force: true });
      removed++;
    }
    // The usual start, after a clean stop: as many files as the index has files with unfinished
    // messages, so it knows them all; the folder is only counted (streamed), never listed into
    // memory. After a crash the counts are not enough (a file acknowledged but not yet indexed
    // and a finished file removed just before its record changed would cancel out): every file
    // is looked up, by digest (a file whose digest matches another's by chance, about 1 in
    // 10^10 at a million files, would be taken as indexed).
    const { store } = this.deps;
    const cleanStop = store.getMeta(CLEAN_STOP_KEY) === 'yes';
    store.setMeta(CLEAN_STOP_KEY, 'no');
    this.recovered = true;
    // The segments open when the last run ended (none after a clean stop) are read in full first.
    const segments = recoverOpenSegments(store, this.queueDir);
    removed += segments.removed;
    let reindexed = segments.reindexed;
    const unreadable = [...segments.unreadable];
    if (cleanStop) {
      let files = 0;
      for (const _name of eachName(this.queueDir)) files++;
      if (files === store.countSpoolFiles()) return { removed, reindexed, unreadable };
    }
    // After a crash between the spool's flush and the index commit, or between a batch's last
    // finished message and the file's removal: look at each file the index does not account for.
    let missing: AcceptedMessage[] = [];
    const index = (found: AcceptedMessage[]) => {
      missing.push(...found);
      if (missing.length < 1000) return;
      store.insertMessages(missing);
      reindexed += missing.length;
      missing = [];
    };
    // One walk of the index gives a digest of every file it names (8 bytes each); each file in
    // the folder is then a binary search, not a query. A file the index names but holds nothing
    // for is checked exactly before it goes.
    const digests = store.spoolFileDigests();
    const folderDigest = digestStart(path.join(this.queueDir, path.sep));
    for (const name of eachName(this.queueDir)) {
      if (segments.names.has(name)) continue; // read in full above
      const digest = digestFrom(folderDigest, name);
      if (hasDigest(digests.holding, digest)) continue;
      const file = path.join(this.queueDir, name);
      if (hasDigest(digests.finished, digest)) {
        // A batch file that was never an open segment at a crash is known in full once known.
        if (name.endsWith(BATCH_SUFFIX) && store.spoolFilesKnown([file]).get(file) === false) {
          fs.rmSync(file, { force: true });
          removed++;
          continue;
        }
        if (store.spoolFilesKnown([file]).has(file)) continue;
      }
      if (name.endsWith(BATCH_SUFFIX)) {
        const records = readBatchRecords(file);
        if (records.length > 0) index(records);
        else {
          const outcome = removeUnacknowledged(file);
          if (outcome === 'unreadable') unreadable.push(file);
          if (outcome === 'removed') removed++; // a large message cut short (an empty spare is not worth a word)
        }
        continue;
      }
      const recovered = readEnvelope(file);
      if (recovered) index([recovered]);
      else unreadable.push(file);
    }
    if (missing.length > 0) store.insertMessages(missing);
    return { removed, reindexed: reindexed + missing.length, unreadable };
  }

  private kick(): void {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const group = this.pending;
    this.pending = [];
    this.flush(group).finally(() => {
      this.flushing = false;
      this.kick();
    });
  }

  /** One durable flush for the whole group: appended to the open segment (and the folder fsync'ed when its name is new); then 250 for all. */
  private async flush(group: PendingCommit[]): Promise<void> {
    const small = group.filter((p) => p.data !== null);
    const hasLarge = small.length < group.length;
    let segment: Segment | null = null;
    try {
      segment = small.length > 0 ? await this.segments.current() : null;
      // A spare file's name is durable already; a new one (a segment's, or a large message's written already) needs the folder's fsync.
      const folder = (segment && !segment.batch.named) || hasLarge ? this.syncQueueFolder() : null;
      await Promise.all([segment ? this.segments.append(segment, small) : null, folder]);
    } catch (err) {
      if (segment) this.segments.refused(segment);
      for (const p of group) p.reject(err as Error);
      return;
    }
    if (segment) segment.batch.named = true;
    for (const p of group) p.resolve();
    this.indexSoon(group.map((p) => p.message));
    if (segment) this.segments.written(segment);
  }

  /**
   * Durable and answered: into the index. The replies are written by the callers' continuations
   * (microtasks); the index follows them: at once when it was last written a while ago, else with
   * the groups of the next few milliseconds in one transaction (each commit rewrites the same
   * B-tree pages into the WAL).
   */
  private indexSoon(messages: readonly AcceptedMessage[]): void {
    this.unindexed.push(...messages);
    const wait = this.unindexed.length >= INDEX_BATCH_MESSAGES ? 0 : Math.max(0, this.lastIndexedAt + INDEX_INTERVAL_MS - performance.now());
    if (this.indexScheduled && (this.indexFailing || wait > 0)) return;
    this.indexScheduled?.();
    if (wait === 0) {
      const immediate = setImmediate(() => this.indexNow(true));
      this.indexScheduled = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => this.indexNow(true), wait);
      this.indexScheduled = () => clearTimeout(timer);
    }
  }

  /** Add the acknowledged messages to the index in one transaction; on failure keep them and try again. */
  private indexNow(retry: boolean): void {
    this.indexScheduled = null;
    this.lastIndexedAt = performance.now();
    const messages = this.unindexed;
    this.unindexed = [];
    try {
      this.deps.store.insertMessages(messages);
    } catch (err) {
      this.unindexed = [...messages, ...this.unindexed];
      if (!this.indexFailing) for (const listener of this.indexFailedListeners) listener(err as Error, this.unindexed.length);
      this.indexFailing = true;
      if (retry) {
        const timer = setTimeout(() => this.indexNow(true), INDEX_RETRY_MS).unref();
        this.indexScheduled = () => clearTimeout(timer);
      }
      return;
    }
    if (this.indexFailing) for (const listener of this.indexFailedListeners) listener(null, messages.length);
    this.indexFailing = false;
    this.segments.release();
    for (const listener of this.committedListeners) listener(messages);
  }

  /** fsync spool/queue (new batch file, renamed large files). Windows cannot fsync a folder. */
  private async syncQueueFolder(): Promise<void> {
    if (process.platform === 'win32') return;
    this.queueDirHandle ??= fs.promises.open(this.queueDir, 'r');
    try {
      await (await this.queueDirHandle).sync();
    } catch (err) {
      // A broken handle is opened anew next time.
      const handle = this.queueDirHandle;
      this.queueDirHandle = null;
      void handle.then((h) => h.close()).catch(() => undefined);
      throw err;
    }
  }
}

/** Empty batch files made ahead of time (their folder fsync'ed), so a group's flush is one durable write. */
const SPARE_BATCH_FILES = 16;
/** At most one index commit in this long while mail flows (the messages are durable in the spool already)… */
const INDEX_INTERVAL_MS = 50;
/** …unless this many wait. */
const INDEX_BATCH_MESSAGES = 500;
/** Made in bunches (one folder fsync each), when this few are left: not beside every group's own fsync. */
const SPARE_REFILL_BELOW = 4;

const INDEX_RETRY_MS = 1000;
/** Store meta key: the last serve stopped cleanly (every acknowledged message indexed). */
export const CLEAN_STOP_KEY = 'spool.clean-stop';

/**
 * Messages up to this size (with the Received: header) are held in memory and committed in
 * groups; larger ones stream into a batch file of their own. Measured at 50 clients sending 100 KiB: grouping
 * them too (256 KiB) took peak RSS from 145 to 172 MiB (socket chunks held until the flush) for
 * throughput no target asks for, so the limit stays where most scanner and application mail is.
 */
const SMALL_MESSAGE_BYTES = 64 * 1024;
