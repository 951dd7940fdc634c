// Delivery to the drop folder for accepted (local) domains: one .eml per message, written to a
// temporary name, fsync'ed and renamed, so a reader of the drop folder never sees half a file.
// Like IIS, the envelope is written as x-sender / x-receiver lines at the top.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { QueueEntry, Store } from '../store/store';
import { fsyncDirectory } from '../spool/spool-files';
import { spooledStream } from '../spool/spooled-body';
import { CoalescingRunner } from './coalescing-runner';
import type { EventBus } from '../log/event-bus';

export interface LocalDeliveryDeps {
  store: Store;
  bus: EventBus;
  /** Drop folder of the virtual server a message arrived on. */
  dropFolderFor(serverName: string): string;
  now(): Date;
  /** After an outcome was recorded: a message with nothing left to do leaves the spool. */
  finished(message: QueueEntry): Promise<void>;
}

const BATCH = 200;
const RETRY_AFTER_FAILURE_MS = 30_000;

export class LocalDelivery {
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly runner = new CoalescingRunner(() => this.run(), (err) => {
    this.deps.bus.emit({ type: 'warning', at: this.deps.now().toISOString(), message: `drop-folder delivery stopped with an error and is tried again at the next wake: ${err.message}` });
  });

  constructor(private readonly deps: LocalDeliveryDeps) {}

  /** Deliver whatever is due; coalesces calls made while a run is in progress. */
  wake(): void {
    this.runner.wake();
  }

  async stop(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.runner.stop();
  }

  private async run(): Promise<void> {
    for (;;) {
      const due = this.deps.store.dueLocalMessages(BATCH);
      let failed = false;
      for (const message of due) {
        if (this.runner.isStopped) return;
        if (!(await this.deliver(message))) failed = true;
      }
      if (failed) {
        // A drop folder that cannot be written stays queued and is tried again later, not in a loop.
        if (!this.retryTimer) {
          this.retryTimer = setTimeout(() => { this.retryTimer = null; this.wake(); }, RETRY_AFTER_FAILURE_MS);
          this.retryTimer.unref();
        }
        return;
      }
      if (due.length < BATCH) return;
    }
  }

  /** True when delivered (or nothing to do), false when it stays queued for a retry. */
  private async deliver(message: QueueEntry): Promise<boolean> {
    const recipients = message.recipients.filter((r) => r.route === 'local' && r.state === 'queued').map((r) => r.address);
    if (recipients.length === 0) return true;
    const folder = this.deps.dropFolderFor(message.serverName);
    try {
      await fs.promises.mkdir(folder, { recursive: true, mode: 0o700 });
      const finalName = path.join(folder, `${message.id}.eml`);
      const tempName = path.join(folder, `.${message.id}.tmp`);
      const envelope = [`x-sender: ${message.mailFrom}`, ...recipients.map((r) => `x-receiver: ${r}`)].join('\r\n') + '\r\n';
      const output = fs.createWriteStream(tempName, { flags: 'w', mode: 0o600, flush: true }); // fsync before close
      output.write(envelope);
      await pipeline(spooledStream(message), output);
      await fs.promises.rename(tempName, finalName);
      await fsyncDirectory(folder);
      this.deps.store.recordDelivery(message.id, recipients, { state: 'delivered', reply: `250 dropped into ${folder}` });
      this.deps.bus.emit({ type: 'delivered', at: this.deps.now().toISOString(), queueId: message.id, recipients, destination: finalName });
      await this.deps.finished(message);
      return true;
    } catch (err) {
      // Leave it queued; the next wake retries. The admin sees the reason in the log.
      this.deps.bus.emit({ type: 'warning', at: this.deps.now().toISOString(), message: `drop folder delivery of ${message.id} failed: ${(err as Error).message}` });
      return false;
    }
  }
}
