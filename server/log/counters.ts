// Counters for the status bar and the chart: sessions, accepted messages and refusals by rule,
// per server, plus a per-minute series for the last hour. In memory, O(1) per event, cheap to
// read every second; they start at zero with the process.
import type { Counters } from '../contract/admin-api';
import type { RelaydeskEvent } from '../contract/events';
import type { EventBus } from './event-bus';

const MINUTES_KEPT = 60;

export class CounterSet {
  private readonly since: string;
  private readonly perServer: Counters['perServer'] = {};
  private readonly minutes = new Map<string, { sessions: number; refusals: number }>();

  constructor(bus: EventBus, private readonly now: () => Date) {
    this.since = now().toISOString();
    bus.subscribe((event) => this.count(event));
  }

  private count(event: RelaydeskEvent): void {
    if (!('session' in event)) return;
    const server = (this.perServer[event.server] ??= { sessions: 0, messagesAccepted: 0, bytesAccepted: 0, refusals: {} });
    const minute = event.at.slice(0, 16);
    let bucket = this.minutes.get(minute);
    if (!bucket) {
      bucket = { sessions: 0, refusals: 0 };
      this.minutes.set(minute, bucket);
      if (this.minutes.size > MINUTES_KEPT) this.minutes.delete(this.minutes.keys().next().value as string);
    }
    if (event.type === 'connect') {
      server.sessions++;
      bucket.sessions++;
    }
    if (event.type === 'data' && event.decision.verdict === 'allow') {
      server.messagesAccepted++;
      server.bytesAccepted += event.size;
    }
    const decision = 'decision' in event ? event.decision : undefined;
    if (decision && decision.verdict !== 'allow') {
      const rule = decision.rule.split(' ')[0] ?? decision.rule;
      server.refusals[rule] = (server.refusals[rule] ?? 0) + 1;
      bucket.refusals++;
    }
  }

  read(): Counters {
    const now = this.now().getTime();
    const perMinute: Counters['perMinute'] = [];
    for (let i = MINUTES_KEPT - 1; i >= 0; i--) {
      const minute = new Date(now - i * 60_000).toISOString().slice(0, 16);
      const bucket = this.minutes.get(minute);
      perMinute.push({ minute, sessions: bucket?.sessions ?? 0, refusals: bucket?.refusals ?? 0 });
    }
    return { since: this.since, perServer: structuredClone(this.perServer), perMinute };
  }
}
