// The live log on disk: session events from the bus are buffered and written to SQLite in
// batches (one transaction every FLUSH_MS), so the SMTP path never waits for the log. Retention
// by age and by count runs once a minute. Credentials never reach an event in the first place.
import type { SessionEvent } from '../contract/events';
import { type LogFilter, type LogSettings, logSettingsSchema } from '../contract/admin-api';
import { parseOrThrow } from '../contract/errors';
import { replyText } from '../contract/log-view';
import type { Store } from '../store/store';
import type { EventBus } from './event-bus';

/**
 * Short enough that buffered events die in V8's young generation (a scavenge every ~25 ms at full
 * load with 4 MiB semi-spaces): held 200 ms they were all promoted, and with the old generation
 * kept small (serve-flags.ts) they brought on extra full collections. Each flush is one
 * transaction without an fsync.
 */
const FLUSH_MS = 25;
const PRUNE_MS = 60_000;
/** Beyond this many unwritten events (a stalled disk) the oldest are dropped and counted. */
const MAX_BUFFERED = 200_000;
export const DEFAULT_LOG_SETTINGS: LogSettings = {
  retentionDays: 30, maxEvents: 1_000_000, queueHistoryDays: 30, keepDeliveredDays: 0, minFreeMiB: 1024, minFreePercent: 5,
};

const SETTINGS_KEY = 'log.settings';

/** Retention and disk settings as stored (what is missing takes its default). */
export function readLogSettings(store: Pick<Store, 'getMeta'>): LogSettings {
  const raw = store.getMeta(SETTINGS_KEY);
  return raw ? { ...DEFAULT_LOG_SETTINGS, ...(JSON.parse(raw) as Partial<LogSettings>) } : DEFAULT_LOG_SETTINGS;
}

/** Validate and store a change (the CLI, the console); a running serve reads it at its next check. */
export function writeLogSettings(store: Pick<Store, 'getMeta' | 'setMeta'>, change: Partial<LogSettings>): LogSettings {
  const settings = { ...readLogSettings(store), ...parseOrThrow(logSettingsSchema, change) };
  store.setMeta(SETTINGS_KEY, JSON.stringify(settings));
  return settings;
}

export class EventLog {
  private buffer: SessionEvent[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  dropped = 0;
  private readonly settingsListeners: Array<(settings: LogSettings) => void> = [];

  constructor(private readonly store: Store, private readonly bus: EventBus, private readonly now: () => Date) {}

  start(): void {
    this.unsubscribe = this.bus.subscribe((event) => {
      // "Logging off" for a server stops only the history: its events still reach the live view and the counters.
      if (!('session' in event) || !this.keepsHistory(event.server)) return;
      if (this.buffer.length >= MAX_BUFFERED) {
        this.buffer.shift();
        this.dropped++;
      }
      this.buffer.push(event);
      if (!this.flushTimer) {
        this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
        this.flushTimer.unref();
      }
    });
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_MS);
    this.pruneTimer.unref();
    this.prune();
  }

  /** Servers with logging off, read at most once a second (this runs for every event). */
  private keepsHistory(server: string): boolean {
    const now = performance.now(); // monotonic: a clock set back must not freeze the setting
    if (!this.loggingOff || now - this.loggingOff.at > 1000) {
      this.loggingOff = { at: now, names: new Set(this.store.listServers().filter((s) => !s.loggingEnabled).map((s) => s.name)) };
    }
    return !this.loggingOff.names.has(server);
  }
  private loggingOff: { at: number; names: Set<string> } | null = null;

  stop(): void {
    this.unsubscribe?.();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.flush();
  }

  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      this.store.appendEvents(batch);
    } catch {
      this.dropped += batch.length; // a full disk must not take the SMTP service down with it
    }
  }

  settings(): LogSettings {
    return readLogSettings(this.store);
  }

  setSettings(change: Partial<LogSettings>): LogSettings {
    const settings = writeLogSettings(this.store, change);
    this.prune();
    for (const listener of this.settingsListeners) listener(settings);
    return settings;
  }

  /** Retention and disk settings changed (the retention sweep and the disk watch follow them). */
  onSettings(listener: (settings: LogSettings) => void): void {
    this.settingsListeners.push(listener);
  }

  prune(): number {
    this.flush();
    const { retentionDays, maxEvents } = this.settings();
    const cutoff = new Date(this.now().getTime() - retentionDays * 86_400_000).toISOString();
    return this.store.pruneEvents(cutoff, maxEvents);
  }

  query(filter: LogFilter & { oldestFirst?: boolean }): Array<SessionEvent & { id: number }> {
    this.flush();
    return this.store.queryEvents({ ...filter, limit: filter.limit ?? 500 });
  }

  /** A session as lines, like a protocol transcript; AUTH payloads appear only as ***. */
  transcript(session: string): string[] {
    return this.query({ session, limit: 5000, oldestFirst: true }).flatMap(transcriptLines);
  }
}

function reply(e: { decision: { code: number; enhanced: string; text: string; rule: string } }): string {
  return `S: ${replyText(e.decision)}   [${e.decision.rule}]`;
}

export function transcriptLines(e: SessionEvent): string[] {
  const t = e.at.slice(11, 23);
  switch (e.type) {
    case 'connect': return [`${t} -- connect from ${e.address} to port ${e.port}`, `${t} ${reply(e)}`];
    case 'ehlo': return [`${t} C: ${e.helo ? 'HELO' : 'EHLO'} ${e.hostname}`];
    case 'starttls': return e.protocol
      ? [`${t} C: STARTTLS`, `${t} -- ${e.protocol} ${e.cipher} (${e.bits} bits)`, ...(e.decision.verdict === 'allow' ? [] : [`${t} ${reply(e)}`])]
      : [`${t} -- ${e.decision.text}   [${e.decision.rule}]`];
    case 'auth': return [`${t} C: AUTH ${e.mechanism} ***`, `${t} S: ${e.decision ? replyText(e.decision) : e.outcome === 'success' ? '235 2.7.0 Authentication successful' : e.outcome}${e.login ? ` (login ${e.login})` : ''}${e.decision && e.decision.verdict !== 'allow' ? `   [${e.decision.rule}]` : ''}`];
    case 'mail': return [`${t} C: MAIL FROM:<${e.from}>`, `${t} ${reply(e)}`];
    case 'rcpt': return [`${t} C: RCPT TO:<${e.to}>`, `${t} ${reply(e)}`];
    case 'data': return [`${t} C: DATA (${e.size} bytes)`, `${t} ${reply(e)}`];
    case 'reply': return [...(e.command ? [`${t} C: ${e.command}`] : []), `${t} ${reply(e)}`];
    case 'close': return [`${t} -- closed after ${e.durationMs} ms (${e.bytesIn} bytes in, ${e.bytesOut} out)`];
  }
}
