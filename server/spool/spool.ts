// The durable spool: every accepted message is streamed to its own file (never held whole in
// memory), the file is fsync'ed, then the folder and the SQLite index are flushed for a whole
// group of messages at once (group commit), and only then is the client told 250. A crash or
// power loss after the 250 loses nothing; a file without an index row was never acknowledged.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
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

interface PendingCommit { message: AcceptedMessage; resolve(): void; reject(err: Error): void }

export class Spool {
  readonly queueDir: string;
  private pending: PendingCommit[] = [];
  private flushing = false;
  private readonly committedListeners = new Set<(messages: readonly AcceptedMessage[]) => void>();

  constructor(private readonly deps: SpoolDeps) {
    this.queueDir = path.join(deps.dir, 'queue');
    fs.mkdirSync(this.queueDir, { recursive: true, mode: 0o700 });
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
    const file = path.join(this.queueDir, `${id}.eml`);
    let size = 0;
    try {
      // The write stream owns the descriptor: flush: true fsyncs the file before it closes, and
      // pipeline() settles only once it has closed, so the data is on disk when this returns.
      const output = fs.createWriteStream(file, { flags: 'wx', mode: 0o600, flush: true });
      output.write(incoming.prependHeaders(id));
      stream.on('data', (chunk: Buffer) => { size += chunk.length; });
      await pipeline(stream, output);
      const refusal = check(size);
      if (refusal) throw refusal;
    } catch (err) {
      await fs.promises.unlink(file).catch(() => undefined);
      if (err instanceof SpoolError) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new SpoolError(452, '4.3.1', 'Insufficient system storage, try again later');
      throw new SpoolError(451, '4.3.0', 'Local error in processing, try again later');
    }
    const message: AcceptedMessage = {
      id, serverName: incoming.serverName, receivedAt: this.deps.now().toISOString(), mailFrom: incoming.mailFrom,
      size, clientAddress: incoming.clientAddress, authUser: incoming.authUser, spoolPath: file, recipients: incoming.recipients,
    };
    try {
      await new Promise<void>((resolve, reject) => {
        this.pending.push({ message, resolve, reject });
        this.kick();
      });
    } catch {
      await fs.promises.unlink(file).catch(() => undefined);
      throw new SpoolError(451, '4.3.0', `Local error in processing, try again later`);
    }
    return message;
  }

  /** Wait until every message handed to accept() so far is committed (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  /** Remove spool files that were written but never acknowledged (no index row). */
  removeOrphans(): number {
    const known = this.deps.store.knownSpoolPaths();
    let removed = 0;
    for (const name of fs.readdirSync(this.queueDir)) {
      const file = path.join(this.queueDir, name);
      if (!known.has(file)) {
        fs.rmSync(file, { force: true });
        removed++;
      }
    }
    return removed;
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
