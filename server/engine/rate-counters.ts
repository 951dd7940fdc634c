// Sliding-window counts of what a sender sent: messages in the last hour, recipients in the last
// day, per user or trusted device, for the sending limits (provider caps) of SPEC §9. In memory:
// a restart starts the windows afresh. Only senders with a limit are counted, so memory stays
// proportional to the limited senders, and each window keeps one entry per minute at most.
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const BUCKET_MS = 60_000;

interface Buckets { minutes: Array<{ at: number; messages: number; recipients: number }> }

export class RateCounters {
  private readonly senders = new Map<string, Buckets>();

  constructor(private readonly now: () => number) {}

  /** Messages in the last hour and recipients in the last day for this sender key ("user:alice"). */
  read(key: string): { messagesLastHour: number; recipientsLastDay: number } {
    const buckets = this.prune(key);
    const hourAgo = this.now() - HOUR_MS;
    let messagesLastHour = 0;
    let recipientsLastDay = 0;
    for (const b of buckets?.minutes ?? []) {
      if (b.at > hourAgo) messagesLastHour += b.messages;
      recipientsLastDay += b.recipients;
    }
    return { messagesLastHour, recipientsLastDay };
  }

  record(key: string, recipients: number): void {
    const now = this.now();
    const at = now - (now % BUCKET_MS);
    let buckets = this.senders.get(key);
    if (!buckets) this.senders.set(key, buckets = { minutes: [] });
    const last = buckets.minutes[buckets.minutes.length - 1];
    if (last && last.at === at) {
      last.messages++;
      last.recipients += recipients;
    } else {
      buckets.minutes.push({ at, messages: 1, recipients });
    }
  }

  private prune(key: string): Buckets | undefined {
    const buckets = this.senders.get(key);
    if (!buckets) return undefined;
    const dayAgo = this.now() - DAY_MS;
    while (buckets.minutes.length > 0 && (buckets.minutes[0]?.at ?? 0) + BUCKET_MS <= dayAgo) buckets.minutes.shift();
    if (buckets.minutes.length === 0) this.senders.delete(key);
    return buckets;
  }
}
