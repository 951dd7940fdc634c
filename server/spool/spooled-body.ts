// Reading a spooled message's bytes, and letting them go once it is finished: a file of its own
// from the envelope line to its end, or an exact byte range of a batch file.
import fs from 'node:fs';
import type { AcceptedMessage, Store } from '../store/store';

/** Where a message's bytes are: a file of its own from bodyOffset to its end, or bodyLength bytes of a batch file. */
export type SpooledBody = Pick<AcceptedMessage, 'spoolPath' | 'bodyOffset' | 'bodyLength'>;

/** The message as stored (Received: header and body), as a stream. */
export function spooledStream(message: SpooledBody): fs.ReadStream {
  const end = message.bodyLength === null ? undefined : message.bodyOffset + message.bodyLength - 1;
  return fs.createReadStream(message.spoolPath, { start: message.bodyOffset, end });
}

/** The message as stored, whole (for sending through an API or rewriting its From). */
export async function readSpooled(message: SpooledBody): Promise<Buffer> {
  const handle = await fs.promises.open(message.spoolPath, 'r');
  try {
    const length = message.bodyLength ?? (await handle.stat()).size - message.bodyOffset;
    const buffer = Buffer.alloc(Math.max(0, length));
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, message.bodyOffset + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return buffer.subarray(0, read);
  } finally {
    await handle.close();
  }
}

/** Up to `limit` bytes from the start of the message; `more` tells whether it goes on. */
async function readSpooledStart(message: SpooledBody, limit: number): Promise<{ bytes: Buffer; more: boolean }> {
  const handle = await fs.promises.open(message.spoolPath, 'r');
  try {
    const wanted = message.bodyLength === null ? limit + 1 : Math.min(limit + 1, message.bodyLength);
    const buffer = Buffer.alloc(wanted);
    const { bytesRead } = await handle.read(buffer, 0, wanted, message.bodyOffset);
    return { bytes: buffer.subarray(0, Math.min(bytesRead, limit)), more: bytesRead > limit };
  } finally {
    await handle.close();
  }
}

/** The header section of a spooled message (up to 64 KiB), for reports and `queue show`. */
export async function readMessageHeaders(message: SpooledBody): Promise<string> {
  const text = (await readSpooledStart(message, 64 * 1024)).bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  return end >= 0 ? text.slice(0, end + 2) : text;
}

/** The message as stored (after the envelope line), up to `limit` bytes, for the console. */
export async function readMessageSource(message: SpooledBody, limit: number): Promise<{ text: string; truncated: boolean }> {
  const { bytes, more } = await readSpooledStart(message, limit);
  return { text: bytes.toString('utf8'), truncated: more };
}

/**
 * A finished (or deleted) message's bytes leave the spool. A file of its own is removed; in a
 * batch file its bytes are overwritten with zeros at once, and the file goes with the last of its
 * messages — unless the serving spool still appends to it (an open segment, which the spool
 * removes when it lets it go). Call it after the index says the body is no longer in the spool,
 * so that "last" is true.
 */
export async function releaseSpooled(message: SpooledBody, store: Pick<Store, 'holdsSpooledBody' | 'openSpoolSegments'>): Promise<void> {
  if (message.bodyLength === null || (!store.holdsSpooledBody(message.spoolPath) && !store.openSpoolSegments().includes(message.spoolPath))) {
    await fs.promises.rm(message.spoolPath, { force: true });
    return;
  }
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(message.spoolPath, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // its last message finished meanwhile
    throw err;
  }
  try {
    await handle.write(Buffer.alloc(message.bodyLength), 0, message.bodyLength, message.bodyOffset);
  } finally {
    await handle.close();
  }
}
