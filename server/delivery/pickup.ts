// The pickup folder, as IIS had it: a line-of-business application drops an RFC 5322 file there
// and it is queued within a second. Recipients come from X-Receiver lines (IIS style) or from
// To/Cc/Bcc (Bcc is removed); the sender from X-Sender, Return-Path or From. A file is taken only
// once its size and time have stopped changing (never half-written); a file that cannot be
// understood moves to the badmail folder with a .bdr file that says why.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import addressparser from 'nodemailer/lib/addressparser';
import type { VirtualServerConfig } from '../contract/settings';
import { emailSchema } from '../contract/settings';
import type { EventBus } from '../log/event-bus';
import type { QueuedRecipient } from '../store/store';
import { type Spool, SpoolError } from '../spool/spool';

const POLL_MS = 500;
/** A file unchanged this long (most of a poll interval, measured, not counted in scans) is complete. */
const STABLE_MS = 400;
const MAX_HEADER_BYTES = 256 * 1024;

export interface PickupDeps {
  spool: Spool;
  bus: EventBus;
  now(): Date;
  servers(): readonly VirtualServerConfig[];
  pickupFolderOf(server: VirtualServerConfig): string | null;
  badmailFolderOf(server: VirtualServerConfig): string;
  routeOf(domain: string): 'local' | 'remote';
}

export class PickupFolder {
  private timer: NodeJS.Timeout | null = null;
  /** file → its "size:mtime" when first seen that way, and when that was. */
  private readonly seen = new Map<string, { signature: string; sinceMs: number }>();
  private scanning: Promise<void> | null = null;

  constructor(private readonly deps: PickupDeps) {}

  start(): void {
    // A tick that comes while a scan is still running (a slow disk, a large file) is skipped,
    // not queued: queued scans would run back to back and see a slow writer's file "unchanged".
    this.timer = setInterval(() => { if (!this.scanning) this.scan().catch(() => undefined); }, POLL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.scanning?.catch(() => undefined);
  }

  /** One pass over the pickup folders; a call while a pass runs joins it (a file is never taken twice). */
  scan(): Promise<void> {
    this.scanning ??= this.scanOnce().finally(() => { this.scanning = null; });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const present = new Set<string>();
    for (const server of this.deps.servers()) {
      const folder = this.deps.pickupFolderOf(server);
      if (!folder || server.state === 'stopped') continue;
      await fs.promises.mkdir(folder, { recursive: true, mode: 0o700 });
      for (const name of await fs.promises.readdir(folder)) {
        if (!/\.eml$/i.test(name)) continue;
        const file = path.join(folder, name);
        present.add(file);
        const stat = await fs.promises.stat(file).catch(() => null);
        if (!stat?.isFile()) continue;
        const signature = `${stat.size}:${stat.mtimeMs}`;
        // Taken only when nothing changed for STABLE_MS: the writer is done with it.
        const seen = this.seen.get(file);
        const nowMs = performance.now(); // monotonic: a clock set back must not hold a file for hours
        if (seen?.signature !== signature) {
          this.seen.set(file, { signature, sinceMs: nowMs });
          continue;
        }
        if (nowMs - seen.sinceMs < STABLE_MS) continue;
        this.seen.delete(file);
        await this.take(server, file);
      }
    }
    // Forget files someone else removed, so the map does not grow over months.
    for (const file of this.seen.keys()) if (!present.has(file)) this.seen.delete(file);
  }

  private async take(server: VirtualServerConfig, file: string): Promise<void> {
    const content = await fs.promises.readFile(file);
    let parsed: ReturnType<typeof parsePickupFile>;
    try {
      parsed = parsePickupFile(content);
    } catch (err) {
      await this.toBadmail(server, file, (err as Error).message);
      return;
    }
    const recipients = parsed.recipients.map((address): QueuedRecipient => {
      const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
      return { address, domain, route: this.deps.routeOf(domain) };
    });
    const limit = server.messages.maxMessageBytes;
    try {
      const message = await this.deps.spool.accept(Readable.from([parsed.message]), {
        serverName: server.name, mailFrom: parsed.sender, recipients, clientAddress: 'pickup', authUser: null,
        prependHeaders: (id) => `Received: from pickup folder\r\n\tby ${server.fqdn} (Relaydesk) with local id ${id};\r\n\t${new Date(this.deps.now()).toUTCString().replace('GMT', '+0000')}\r\n`,
      }, (size) => (limit !== null && size > limit ? new SpoolError(552, '5.3.4', `larger than the message size limit (${size} > ${limit} bytes)`) : null));
      await fs.promises.unlink(file);
      this.deps.bus.emit({ type: 'delivery', at: this.deps.now().toISOString(), queueId: message.id, recipients: parsed.recipients, destination: 'queue', outcome: 'attempt', reply: `picked up ${path.basename(file)}` });
    } catch (err) {
      await this.toBadmail(server, file, (err as Error).message);
    }
  }

  private async toBadmail(server: VirtualServerConfig, file: string, reason: string): Promise<void> {
    const folder = this.deps.badmailFolderOf(server);
    await fs.promises.mkdir(folder, { recursive: true, mode: 0o700 });
    const base = path.join(folder, `${path.basename(file, path.extname(file))}-${Date.now().toString(36)}`);
    await fs.promises.rename(file, `${base}.bad`).catch(async () => {
      await fs.promises.copyFile(file, `${base}.bad`);
      await fs.promises.unlink(file);
    });
    await fs.promises.writeFile(`${base}.bdr`, `Pickup file: ${path.basename(file)}\r\nReason: ${reason}\r\n`, { mode: 0o600 });
    this.deps.bus.emit({ type: 'warning', at: this.deps.now().toISOString(), message: `pickup file ${path.basename(file)} moved to badmail: ${reason}` });
  }
}

/** Envelope and content of a pickup file; throws with the reason when it cannot be queued. */
export function parsePickupFile(content: Buffer): { sender: string; recipients: string[]; message: Buffer } {
  const text = content.subarray(0, MAX_HEADER_BYTES).toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  if (end < 0) throw new Error('no blank line after the headers: not an RFC 5322 message');
  const headerText = text.slice(0, end);
  if (!/^[\x21-\x39\x3b-\x7e]+:/.test(headerText)) throw new Error('the file does not start with a header line');
  // Unfold, then split into (name, value, raw lines) so some headers can be dropped.
  const rawLines = headerText.split(/\r?\n/);
  const headers: Array<{ name: string; value: string; raw: string[] }> = [];
  for (const line of rawLines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      const last = headers[headers.length - 1] as { value: string; raw: string[] };
      last.value += ` ${line.trim()}`;
      last.raw.push(line);
    } else {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`malformed header line "${line.slice(0, 60)}"`);
      headers.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim(), raw: [line] });
    }
  }
  const addresses = (names: string[]) => headers.filter((h) => names.includes(h.name))
    .flatMap((h) => addressparser(h.value, { flatten: true }).map((a) => a.address).filter(Boolean) as string[]);
  const receivers = addresses(['x-receiver']);
  const recipients = [...new Set((receivers.length ? receivers : addresses(['to', 'cc', 'bcc'])).map((a) => a.trim()))];
  if (recipients.length === 0) throw new Error('no recipient (no X-Receiver, To, Cc or Bcc address)');
  for (const r of recipients) if (!emailSchema.safeParse(r).success) throw new Error(`"${r}" is not a valid recipient address`);
  const sender = addresses(['x-sender'])[0] ?? addresses(['return-path'])[0] ?? addresses(['from'])[0] ?? '';
  if (sender !== '' && !emailSchema.safeParse(sender).success) throw new Error(`"${sender}" is not a valid sender address`);
  // Envelope lines and Bcc are not for the recipients' eyes.
  const kept = headers.filter((h) => !['x-sender', 'x-receiver', 'bcc'].includes(h.name)).flatMap((h) => h.raw);
  const body = content.subarray(Buffer.byteLength(text.slice(0, end), 'latin1'));
  return { sender, recipients, message: Buffer.concat([Buffer.from(kept.join('\r\n'), 'latin1'), body]) };
}
