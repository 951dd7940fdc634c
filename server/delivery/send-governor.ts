// Keeps a route under its provider's caps (Microsoft 365: 30 messages a minute and 10,000
// recipients a day per mailbox): a message that would go over waits its turn in the queue instead
// of getting the mailbox blocked. In memory, sliding windows; a restart starts them anew.

export interface RouteCaps {
  messagesPerMinute: number | null;
  recipientsPerDay: number | null;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

export class SendGovernor {
  private readonly sent = new Map<string, { messages: number[]; recipients: Array<{ at: number; count: number }> }>();

  constructor(private readonly now: () => number) {}

  /** How long until `recipients` more may go through `route` (0 = now). */
  waitMs(route: string, caps: RouteCaps, recipients: number): number {
    const t = this.now();
    const entry = this.sent.get(route);
    if (!entry) return 0;
    entry.messages = entry.messages.filter((at) => at > t - MINUTE);
    entry.recipients = entry.recipients.filter((r) => r.at > t - DAY);
    let wait = 0;
    if (caps.messagesPerMinute !== null && entry.messages.length >= caps.messagesPerMinute) {
      wait = Math.max(wait, (entry.messages[entry.messages.length - caps.messagesPerMinute] ?? t) + MINUTE - t);
    }
    if (caps.recipientsPerDay !== null) {
      let total = entry.recipients.reduce((sum, r) => sum + r.count, 0) + recipients;
      for (const r of entry.recipients) {
        if (total <= caps.recipientsPerDay) break;
        total -= r.count;
        wait = Math.max(wait, r.at + DAY - t);
      }
    }
    return Math.max(0, wait);
  }

  record(route: string, recipients: number): void {
    const t = this.now();
    let entry = this.sent.get(route);
    if (!entry) this.sent.set(route, entry = { messages: [], recipients: [] });
    entry.messages.push(t);
    entry.recipients.push({ at: t, count: recipients });
  }
}
