// What happens to a message after its last recipient was delivered or failed: the body leaves
// the spool at once (or becomes a copy under spool/kept/ for the configured days), while the
// queue record stays as history for queueHistoryDays and is then pruned. Crash-safe by order:
// a file of its own is removed (or moved out of spool/queue/) before its record says so, so the
// spool's recovery never mistakes a finished message for an unindexed one; a message in a batch
// file is recorded first and then zeroed, and the file goes with its last message (recovery
// removes a batch file left with none). A sweep at start finishes whatever a crash interrupted.
// Never touches a message that is not done.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { LogSettings } from '../contract/admin-api';
import type { QueueEntry, Store } from '../store/store';
import { releaseSpooled, spooledStream } from './spooled-body';

const DAY_MS = 86_400_000;
const SWEEP_BATCH = 500;
/** A user's successful login addresses are remembered this long (the throttle spares them). */
export const KNOWN_ADDRESS_DAYS = 30;

export interface RetentionDeps {
  store: Store;
  /** spool/queue and spool/kept. */
  queueDir: string;
  keptDir: string;
  settings(): Pick<LogSettings, 'queueHistoryDays' | 'keepDeliveredDays'>;
  now(): Date;
}

export interface SweepResult { finished: number; keptRemoved: number; recordsPruned: number }

export class Retention {
  constructor(private readonly deps: RetentionDeps) {
    fs.mkdirSync(deps.keptDir, { recursive: true, mode: 0o700 });
  }

  /** The message is done: its body leaves the spool (removed, or kept as a copy). Idempotent. */
  async finish(message: Pick<QueueEntry, 'id' | 'spoolPath' | 'bodyOffset' | 'bodyLength' | 'state' | 'body'>): Promise<void> {
    if (message.state !== 'done' || message.body !== 'spool') return;
    if (message.bodyLength !== null) return this.finishInBatch(message);
    const { store } = this.deps;
    const kept = path.join(this.deps.keptDir, path.basename(message.spoolPath));
    if (this.deps.settings().keepDeliveredDays > 0) {
      try {
        await fs.promises.rename(message.spoolPath, kept);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // Moved before a crash (or never there): the record follows what is on disk.
        if (!fs.existsSync(kept)) {
          store.setMessageBody(message.id, 'removed');
          return;
        }
      }
      store.setMessageBody(message.id, 'kept', kept);
      return;
    }
    await fs.promises.rm(message.spoolPath, { force: true });
    store.setMessageBody(message.id, 'removed');
  }

  /** A message that shares a batch file: a kept copy becomes a file of its own; then its bytes leave the batch. */
  private async finishInBatch(message: Pick<QueueEntry, 'id' | 'spoolPath' | 'bodyOffset' | 'bodyLength'>): Promise<void> {
    const { store } = this.deps;
    if (this.deps.settings().keepDeliveredDays > 0) {
      const kept = path.join(this.deps.keptDir, `${message.id}.eml`);
      await pipeline(spooledStream(message), fs.createWriteStream(kept, { mode: 0o600 })); // a large message's record too: never whole in memory
      store.setMessageBody(message.id, 'kept', kept);
    } else {
      store.setMessageBody(message.id, 'removed');
    }
    await releaseSpooled(message, store);
  }

  /** At start and now and then: finish interrupted work, drop old kept copies, prune old records. */
  async sweep(): Promise<SweepResult> {
    const { store } = this.deps;
    const now = this.deps.now().getTime();
    const settings = this.deps.settings();
    const result: SweepResult = { finished: 0, keptRemoved: 0, recordsPruned: 0 };
    for (let batch = store.finishedInSpool(SWEEP_BATCH); batch.length > 0; batch = store.finishedInSpool(SWEEP_BATCH)) {
      for (const message of batch) await this.finish(message);
      result.finished += batch.length;
    }
    const keptCutoff = new Date(now - settings.keepDeliveredDays * DAY_MS).toISOString();
    for (let batch = store.keptCopiesBefore(keptCutoff, SWEEP_BATCH); batch.length > 0; batch = store.keptCopiesBefore(keptCutoff, SWEEP_BATCH)) {
      for (const copy of batch) {
        await fs.promises.rm(copy.spoolPath, { force: true });
        store.setMessageBody(copy.id, 'removed');
      }
      result.keptRemoved += batch.length;
    }
    result.recordsPruned = store.pruneHistory(new Date(now - settings.queueHistoryDays * DAY_MS).toISOString());
    store.pruneLoginAddresses(new Date(now - KNOWN_ADDRESS_DAYS * DAY_MS).toISOString());
    return result;
  }
}
