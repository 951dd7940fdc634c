// Segments: the batch files groups of small messages are appended to, one group after another,
// until a segment is full, idle or old. The open segments (the one appended to, and those whose
// last groups are not yet indexed) are listed in the store: nothing removes a listed file, and
// after a crash each is read in full (recoverOpenSegments), since a group in one may have been
// acknowledged and not indexed though the index knows the file by its earlier groups.
import fs from 'node:fs';
import path from 'node:path';
import type { AcceptedMessage, Store } from '../store/store';
import { type BatchFile, closeQuietly, discardBatchFile, removeUnacknowledged, writeDurably } from './spool-files';
import { batchRecordLine, readBatchFile } from './spool-format';

/** The batch file groups are appended to: how much is in it, when it was opened and last written (performance.now()). */
export interface Segment { batch: BatchFile; size: number; openedAt: number; writtenAt: number }

/** A message of a group: its bytes (Received: header and body) when it is small, null when it has a file of its own. */
export interface GroupMember { message: AcceptedMessage; data: Buffer[] | null }

export interface SegmentDeps {
  store: Pick<Store, 'changeOpenSpoolSegments' | 'holdsSpooledBody'>;
  /** A spare batch file, or a new one. */
  takeBatchFile(): Promise<BatchFile>;
  /** A group is being written now: the open segment is not let go under it. */
  flushing(): boolean;
  /** Every acknowledged message is in the index: a retired segment may leave the list. */
  allIndexed(): boolean;
  /** How long a segment waits for the next group (SEGMENT_IDLE_MS). */
  idleMs?: number;
}

/**
 * Groups go on into one segment until it holds this much. On the machines measured, creating a
 * file cost the kernel 140–900 µs of CPU (ext4), far more than a group's write; a file per group
 * (2–3 messages at 10 clients) made that the largest cost per message. A larger segment lives
 * longer: it goes when its last message is finished, so one message held for days keeps it.
 */
const SEGMENT_BYTES = 512 * 1024;
/**
 * A segment nothing was appended to for this long is let go, so a quiet server's delivered mail
 * leaves the folder soon; a busy one appends more often than this.
 */
const SEGMENT_IDLE_MS = 2000;
/** Nor is one appended to for longer than this. */
const SEGMENT_MAX_AGE_MS = 10 * 60_000;

export class OpenSegments {
  /** The batch file the next group is appended to; null until a group needs one. */
  private open: Segment | null = null;
  /** No longer appended to; listed as open until every group in them is indexed. */
  private retired: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly idleMs: number;

  constructor(private readonly deps: SegmentDeps) {
    this.idleMs = deps.idleMs ?? SEGMENT_IDLE_MS;
  }

  /** The open segment, or a new one, listed as open in the store before anything is written to it. */
  async current(): Promise<Segment> {
    if (this.open) return this.open;
    const batch = await this.deps.takeBatchFile();
    try {
      this.deps.store.changeOpenSpoolSegments([batch.file], []);
    } catch (err) {
      discardBatchFile(batch);
      throw err;
    }
    const segment: Segment = { batch, size: 0, openedAt: performance.now(), writtenAt: performance.now() };
    this.open = segment;
    this.watch(segment, this.idleMs);
    return segment;
  }

  /**
   * Append a group's records to the segment, durably. Each message gets its place in the file
   * (spoolPath, bodyOffset); one durable write for all of them.
   */
  async append(segment: Segment, group: readonly GroupMember[]): Promise<void> {
    const buffers: Buffer[] = [];
    let offset = segment.size;
    for (const { message, data } of group) {
      const records = data ?? [];
      const line = batchRecordLine(message, records);
      message.spoolPath = segment.batch.file;
      message.bodyOffset = offset + line.length;
      offset += line.length + (message.bodyLength ?? 0);
      buffers.push(line, ...records);
    }
    await writeDurably(segment.batch.fd, buffers, offset - segment.size, segment.size);
    segment.size = offset;
    segment.writtenAt = performance.now();
  }

  /** The group was answered: a full segment takes no more. */
  written(segment: Segment): void {
    if (segment.size >= SEGMENT_BYTES) this.retire();
  }

  /**
   * The group was refused (451/452), so its bytes go: even whole records (the folder's fsync
   * failed, not the write) must not be indexed by a recovery and delivered after the refusal.
   * Nothing more is appended after them either way.
   */
  refused(segment: Segment): void {
    try {
      fs.ftruncateSync(segment.batch.fd, segment.size);
    } catch { /* the disk refused this as well: recovery stops at the torn record */ }
    this.retire();
  }

  /** Append no more to the open segment (a stop, or a CLI command done), unless a group is being written. */
  letGo(): void {
    if (!this.deps.flushing()) this.retire();
  }

  /**
   * Every group in the retired segments is indexed: they leave the open list, and a file whose
   * messages are all finished goes (a finished message's bytes were zeroed meanwhile; see
   * releaseSpooled). Called after each index commit.
   */
  release(): void {
    if (this.retired.length === 0) return;
    const files = this.retired;
    this.retired = [];
    try {
      this.deps.store.changeOpenSpoolSegments([], files);
      for (const file of files) if (!this.deps.store.holdsSpooledBody(file)) fs.rmSync(file, { force: true });
    } catch {
      this.retired.unshift(...files); // again after the next index commit; until then they stay open
    }
  }

  /** Append no more to the open segment; it leaves the open list once every group in it is indexed. */
  private retire(): void {
    const segment = this.open;
    if (!segment) return;
    this.open = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Closing a file already flushed is quick: a direct call, not a thread-pool round trip.
    closeQuietly(segment.batch.fd);
    this.retired.push(segment.batch.file);
    if (this.deps.allIndexed()) this.release();
  }

  /** A segment idle for idleMs, or open for SEGMENT_MAX_AGE_MS, is retired: its finished messages' file may go. */
  private watch(segment: Segment, delay: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.open !== segment) return;
      const now = performance.now();
      const idleFor = now - segment.writtenAt;
      if (!this.deps.flushing() && (idleFor >= this.idleMs || now - segment.openedAt >= SEGMENT_MAX_AGE_MS)) this.retire();
      else this.watch(segment, Math.max(this.idleMs - idleFor, 10));
    }, delay);
    this.timer.unref();
  }
}

/**
 * At start: read each segment listed as open when the last run ended, index the records the index
 * lacks, remove a file whose messages are all finished or that holds nothing acknowledged, and
 * unlist them. By name: the data folder may have moved. `names` are the files read here.
 */
export function recoverOpenSegments(store: Store, queueDir: string): { names: Set<string>; removed: number; reindexed: number; unreadable: string[] } {
  const listed = store.openSpoolSegments();
  const names = new Set(listed.map((file) => path.basename(file)));
  const result = { names, removed: 0, reindexed: 0, unreadable: [] as string[] };
  for (const name of names) {
    const file = path.join(queueDir, name);
    if (!fs.existsSync(file)) continue;
    const { records, passedOver } = readBatchFile(file);
    const known = store.knownMessageIds(records.map((r) => r.id));
    const missing = records.filter((r) => !known.has(r.id));
    const holds = store.spoolFilesKnown([file]).get(file);
    if (missing.length > 0) {
      store.insertMessages(missing);
      result.reindexed += missing.length;
    } else if (holds === false) {
      fs.rmSync(file, { force: true }); // every message in it finished
      result.removed++;
    } else if (holds === undefined) {
      const outcome = passedOver === 0 ? removeUnacknowledged(file) : 'unreadable';
      if (outcome === 'unreadable') result.unreadable.push(file);
      if (outcome === 'removed') result.removed++;
    }
  }
  if (listed.length > 0) store.changeOpenSpoolSegments([], listed);
  return result;
}
