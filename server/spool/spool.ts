// The durable spool: every accepted message is streamed to its own file (never held whole in
// memory) under spool/tmp, fsync'ed, and renamed into spool/queue; the folder is fsync'ed for a
// whole group of messages at once (group commit), and only then is the client told 250. Each file
// starts with an envelope line, so the file alone is the durable record: after a crash, files in
// queue/ without an index row are indexed again, and files left in tmp/ (never acknowledged) go.
// All fsyncs run on libuv's threadpool; the event loop never waits for the disk.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { AcceptedMessage, QueuedRecipient, Store } from '../store/store';

export interface SpoolDeps {
  /** Spool folder (messages live in its "queue" sub-folder). */
  dir: string;
  store: Store;
  now(): Date;
  newId(): string;
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

interface PendingCommit { message: AcceptedMessage; resolve(): void; reject(err: Error): void }

const ENVELOPE_PREFIX = 'X-Relaydesk-Envelope: ';

/** The first line of a spool file: the envelope, so the queue can be rebuilt from the spool. */
export function envelopeLine(message: Omit<AcceptedMessage, 'spoolPath' | 'bodyOffset' | 'size'>): string {
  return `${ENVELOPE_PREFIX}${Buffer.from(JSON.stringify({ v: 1, ...message })).toString('base64')}\r\n`;
}

export class Spool {
  readonly queueDir: string;
  readonly tmpDir: string;
  /** Copies of delivered messages, when the admin keeps them (see retention.ts). */
  readonly keptDir: string;
  private pending: PendingCommit[] = [];
  private flushing = false;
  private readonly committedListeners = new Set<(messages: readonly AcceptedMessage[]) => void>();

  constructor(private readonly deps: SpoolDeps) {
    this.queueDir = path.join(deps.dir, 'queue');
    this.tmpDir = path.join(deps.dir, 'tmp');
    this.keptDir = path.join(deps.dir, 'kept');
    fs.mkdirSync(this.queueDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  /** Called with every group of messages once it is durable (delivery workers wake on it). */
  onCommitted(listener: (messages: readonly AcceptedMessage[]) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  /**
   * Stream a message into the spool and make it durable. Resolves once it is safe to say 250.
   * `check` runs after the body was read (size limits); returning an error discards the file.
   */
  async accept(stream: Readable, incoming: IncomingMessage, check: (size: number) => SpoolError | null): Promise<AcceptedMessage> {
    const id = this.deps.newId();
    const temp = path.join(this.tmpDir, `${id}.eml`);
    const file = path.join(this.queueDir, `${id}.eml`);
    const receivedAt = this.deps.now().toISOString();
    const envelope = envelopeLine({
      id, serverName: incoming.serverName, receivedAt, mailFrom: incoming.mailFrom, clientAddress: incoming.clientAddress,
      authUser: incoming.authUser, recipients: incoming.recipients,
    });
    let size = 0;
    try {
      size = await writeDurably(temp, Buffer.from(envelope + incoming.prependHeaders(id)), stream);
      const refusal = check(size);
      if (refusal) throw refusal;
      await fs.promises.rename(temp, file);
    } catch (err) {
      await fs.promises.unlink(temp).catch(() => undefined);
      throw spoolErrorOf(err);
    }
    const message: AcceptedMessage = {
      id, serverName: incoming.serverName, receivedAt, mailFrom: incoming.mailFrom, size, clientAddress: incoming.clientAddress,
      authUser: incoming.authUser, spoolPath: file, bodyOffset: Buffer.byteLength(envelope), recipients: incoming.recipients,
    };
    try {
      await new Promise<void>((resolve, reject) => {
        this.pending.push({ message, resolve, reject });
        this.kick();
      });
    } catch (err) {
      await fs.promises.unlink(file).catch(() => undefined);
      throw spoolErrorOf(err);
    }
    return message;
  }

  /** Wait until every message handed to accept() so far is committed (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  /**
   * After a crash: files in tmp/ were never acknowledged and go; files in queue/ were (their
   * folder was fsync'ed before the 250) and any the index lacks are indexed from their envelope.
   */
  recover(): { removed: number; reindexed: number; unreadable: string[] } {
    let removed = 0;
    for (const name of eachName(this.tmpDir)) {
      fs.rmSync(path.join(this.tmpDir, name), { force: true });
      removed++;
    }
    // The usual start: as many files as the index has spooled bodies, so it knows them all; the
    // folder is only counted (streamed), never listed into memory whatever the queue's length.
    let files = 0;
    for (const _name of eachName(this.queueDir)) files++;
    if (files === this.deps.store.countSpoolBodies()) return { removed, reindexed: 0, unreadable: [] };
    // After a crash between the folder's fsync and the index commit: find the files it lacks.
    let reindexed = 0;
    let missing: AcceptedMessage[] = [];
    const unreadable: string[] = [];
    for (const name of eachName(this.queueDir)) {
      const file = path.join(this.queueDir, name);
      if (this.deps.store.hasSpoolPath(file)) continue;
      const recovered = readEnvelope(file);
      if (recovered) missing.push(recovered);
      else unreadable.push(file);
      if (missing.length >= 1000) {
        this.deps.store.insertMessages(missing);
        reindexed += missing.length;
        missing = [];
      }
    }
    if (missing.length > 0) this.deps.store.insertMessages(missing);
    return { removed, reindexed: reindexed + missing.length, unreadable };
  }

  private kick(): void {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending;
    this.pending = [];
    this.flush(batch).finally(() => {
      this.flushing = false;
      this.kick();
    });
  }

  private async flush(batch: PendingCommit[]): Promise<void> {
    try {
      await fsyncDirectory(this.queueDir);
      this.deps.store.insertMessages(batch.map((p) => p.message));
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
      return;
    }
    for (const p of batch) p.resolve();
    const messages = batch.map((p) => p.message);
    for (const listener of this.committedListeners) listener(messages);
  }
}

/** Messages up to this size are gathered in memory and written at once; larger ones stream. */
const SMALL_MESSAGE_BYTES = 32 * 1024;

/**
 * Write head + the body to a new file and fsync it; resolves with the body's size once the data
 * is on disk. Most mail (scanners, applications) is small: one write, one fsync, no stream
 * machinery. A message that grows past SMALL_MESSAGE_BYTES continues as a stream, so memory
 * stays bounded whatever its size.
 */
async function writeDurably(file: string, head: Buffer, body: Readable): Promise<number> {
  const chunks: Buffer[] = [head];
  let buffered = head.length;
  let size = 0;
  const reader = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    const next = await reader.next();
    if (next.done) break;
    size += next.value.length;
    buffered += next.value.length;
    chunks.push(next.value);
    if (buffered > SMALL_MESSAGE_BYTES) {
      const rest = async function* rest(): AsyncGenerator<Buffer> {
        yield* chunks.splice(0);
        for (let more = await reader.next(); !more.done; more = await reader.next()) {
          size += more.value.length;
          yield more.value;
        }
      };
      // The write stream owns the descriptor: flush: true fsyncs the file before it closes, and
      // pipeline() settles only once it has closed, so the data is on disk when this returns.
      await pipeline(Readable.from(rest()), fs.createWriteStream(file, { flags: 'wx', mode: 0o600, flush: true }));
      return size;
    }
  }
  const data = Buffer.concat(chunks, buffered);
  const handle = await fs.promises.open(file, 'wx', 0o600);
  try {
    for (let offset = 0; offset < data.length;) offset += (await handle.write(data, offset, data.length - offset)).bytesWritten;
    await handle.sync();
  } finally {
    await handle.close();
  }
  return size;
}

/** Make a folder's entries (new or renamed files) durable. Windows cannot fsync a folder. */
export async function fsyncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Read the envelope line of a spool file; null when the file does not start with one. */
export function readEnvelope(file: string): AcceptedMessage | null {
  const handle = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const read = fs.readSync(handle, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, read).toString('latin1');
    const end = text.indexOf('\r\n');
    if (!text.startsWith(ENVELOPE_PREFIX) || end < 0) return null;
    const envelope = JSON.parse(Buffer.from(text.slice(ENVELOPE_PREFIX.length, end), 'base64').toString('utf8')) as Omit<AcceptedMessage, 'spoolPath' | 'bodyOffset' | 'size'> & { v: number };
    const size = fs.statSync(file).size;
    const { v: _version, ...fields } = envelope;
    return { ...fields, spoolPath: file, bodyOffset: end + 2, size: size - end - 2 };
  } catch {
    return null;
  } finally {
    fs.closeSync(handle);
  }
}

/** The header section of a spooled message (up to 64 KiB), for reports and `queue show`. */
export async function readMessageHeaders(message: { spoolPath: string; bodyOffset: number }): Promise<string> {
  const handle = await fs.promises.open(message.spoolPath, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, message.bodyOffset);
    const text = buffer.subarray(0, bytesRead).toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    return end >= 0 ? text.slice(0, end + 2) : text;
  } finally {
    await handle.close();
  }
}

/** The message as stored (after the envelope line), up to `limit` bytes, for the console. */
export async function readMessageSource(message: { spoolPath: string; bodyOffset: number }, limit: number): Promise<{ text: string; truncated: boolean }> {
  const handle = await fs.promises.open(message.spoolPath, 'r');
  try {
    const buffer = Buffer.alloc(limit + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, message.bodyOffset);
    return { text: buffer.subarray(0, Math.min(bytesRead, limit)).toString('utf8'), truncated: bytesRead > limit };
  } finally {
    await handle.close();
  }
}

/** The names in a folder, one at a time (a million queued files are never one array). */
function* eachName(dir: string): Generator<string> {
  const handle = fs.opendirSync(dir, { bufferSize: 256 });
  try {
    for (let entry = handle.readSync(); entry !== null; entry = handle.readSync()) yield entry.name;
  } finally {
    handle.closeSync();
  }
}
