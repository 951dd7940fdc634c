// Counters for the status bar and the chart: sessions, accepted messages and refusals by rule,
// per server, plus a per-minute series for the last hour. In memory, O(1) per event, cheap to
// read every second; they start at zero with the process.
import type { Counters } from '../contract/admin-api';
import type { RelaydeskEvent } from '../contract/events';
import type { EventBus } from './event-bus';

const MINUTES_KEPT = 60;

export interface WireTotals { tlsHandshakes: number; authFailures: number; bytesIn: number; bytesOut: number }
export interface DeliveryTotals { delivered: number; deferred: number; failed: number }

export class CounterSet {
  private readonly since: string;
  private readonly perServer: Counters['perServer'] = {};
  private readonly minutes = new Map<string, { sessions: number; refusals: number }>();
  private readonly wire: Record<string, WireTotals> = {};
  private readonly deliveries: DeliveryTotals = { delivered: 0, deferred: 0, failed: 0 };

  constructor(bus: EventBus, private readonly now: () => Date) {
    this.since = now().toISOString();
    bus.subscribe((event) => this.count(event));
  }

  private count(event: RelaydeskEvent): void {
    if (event.type === 'delivered') this.deliveries.delivered += event.recipients.length;
    if (event.type === 'delivery' && (event.outcome === 'deferred' || event.outcome === 'failed')) this.deliveries[event.outcome] += event.recipients.length;
    if (!('session' in event)) return;
    const wire = (this.wire[event.server] ??= { tlsHandshakes: 0, authFailures: 0, bytesIn: 0, bytesOut: 0 });
    if (event.type === 'starttls' && event.decision.verdict === 'allow') wire.tlsHandshakes++;
    if (event.type === 'auth' && event.outcome !== 'success') wire.authFailures++;
    if (event.type === 'close') {
      wire.bytesIn += event.bytesIn;
      wire.bytesOut += event.bytesOut;
    }
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

  /** Totals since start for /metrics: TLS handshakes, failed sign-ins and bytes per server; recipients by delivery outcome. */
  totals(): { perServer: Record<string, WireTotals>; deliveries: DeliveryTotals } {
    return { perServer: structuredClone(this.wire), deliveries: { ...this.deliveries } };
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
