// WAL checkpoints off the main thread. SQLite checkpoints automatically inside a COMMIT once the
// WAL holds 1,000 pages: the committing thread then copies those pages into the database file
// and fsyncs both — on a busy relay that is the event loop, every hundred or so accepted groups.
// While serve runs, a worker thread with its own connection checkpoints every quarter second
// instead (PASSIVE: it never blocks the main connection's readers or writers), and the main
// connection's automatic checkpoint stays only as a safety net far above that. If the worker
// fails, the main connection checkpoints as before.
import { Worker } from 'node:worker_threads';

/** Pages the WAL may grow to before the main connection checkpoints by itself (about 80 MiB). */
export const SAFETY_NET_PAGES = 20_000;
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;
const INTERVAL_MS = 250;

// Plain JavaScript run with eval, so it works the same from the sources (tests) and the build.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
db.pragma('synchronous = FULL');
if (process.platform === 'darwin') db.pragma('checkpoint_fullfsync = ON');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage({ error: String(err && err.message || err) }); }
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

export interface CheckpointerHooks {
  /** The main connection's automatic checkpoint threshold (pages). */
  setAutoCheckpoint(pages: number): void;
  /** The worker could not checkpoint (the main connection has taken over again). */
  failed(message: string): void;
}

export class Checkpointer {
  private constructor(private readonly worker: Worker, private readonly hooks: CheckpointerHooks) {}

  static start(file: string, hooks: CheckpointerHooks): Checkpointer {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver: require.resolve('better-sqlite3'), intervalMs: INTERVAL_MS } });
    const checkpointer = new Checkpointer(worker, hooks);
    let failed = false;
    const fail = (message: string) => {
      if (failed) return;
      failed = true;
      hooks.setAutoCheckpoint(DEFAULT_AUTOCHECKPOINT_PAGES);
      hooks.failed(message);
      void worker.terminate();
    };
    worker.on('message', (message: { error?: string }) => { if (message.error) fail(message.error); });
    worker.on('error', (err) => fail(err.message));
    worker.unref();
    hooks.setAutoCheckpoint(SAFETY_NET_PAGES);
    return checkpointer;
  }

  /** Hand checkpoints back to the main connection and let the worker close its connection. */
  async stop(): Promise<void> {
    this.hooks.setAutoCheckpoint(DEFAULT_AUTOCHECKPOINT_PAGES);
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('stop');
    await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 2000).unref())]);
    await this.worker.terminate();
  }
}
