// The spool's file format. A batch file (.batch) holds records, each an envelope line with the
// length and CRC-32 of the bytes that follow: a group of small messages, or one large message.
// A message file of its own (.eml, written by earlier versions and by the queue-fill benchmark)
// starts with an envelope line and holds one message to its end. Either way the files alone can
// rebuild the queue index after a crash.
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { AcceptedMessage } from '../store/store';

const ENVELOPE_PREFIX = 'X-Relaydesk-Envelope: ';
/** Records committed with one flush: a group of small messages, or one large message. */
export const BATCH_SUFFIX = '.batch';

export type EnvelopeFields = Omit<AcceptedMessage, 'spoolPath' | 'bodyOffset' | 'bodyLength' | 'size'>;

/** The first line of a message file: the envelope, so the queue can be rebuilt from the spool. */
export function envelopeLine(message: EnvelopeFields): string {
  return `${ENVELOPE_PREFIX}${Buffer.from(JSON.stringify({ v: 1, ...message })).toString('base64')}\r\n`;
}

/** A record's first line in a batch file: the envelope with the size, length and CRC-32 of the bytes that follow. */
export function batchRecordLine(message: AcceptedMessage, data: readonly Buffer[]): Buffer {
  let crc = 0;
  for (const chunk of data) crc = zlib.crc32(chunk, crc);
  return recordLine(message, crc, 0);
}

/**
 * How long a large message's record line can be, whatever its size, length and CRC turn out to
 * be: its body is written first, after this many bytes, and the line last (paddedRecordLine).
 */
export function largeRecordLineBytes(fields: EnvelopeFields): number {
  const widest = { ...fields, size: Number.MAX_SAFE_INTEGER, spoolPath: '', bodyOffset: 0, bodyLength: Number.MAX_SAFE_INTEGER };
  return recordLine(widest, 0xffffffff, 0).length;
}

/** The record line of a large message, exactly `lineBytes` long: its JSON padded with spaces (which JSON ignores). */
export function paddedRecordLine(message: AcceptedMessage, crc: number, lineBytes: number): Buffer {
  // Base64 turns every 3 bytes into 4: the JSON that fills the line is 3/4 of its base64 part.
  const jsonBytes = ((lineBytes - ENVELOPE_PREFIX.length - 2) / 4) * 3;
  const line = recordLine(message, crc, jsonBytes);
  if (line.length !== lineBytes) throw new Error(`record line is ${line.length} bytes, not ${lineBytes}`);
  return line;
}

function recordLine(message: AcceptedMessage, crc: number, padJsonTo: number): Buffer {
  const { spoolPath: _path, bodyOffset: _offset, bodyLength, recipients, ...fields } = message;
  const json = Buffer.from(JSON.stringify({ v: 2, ...fields, recipients, length: bodyLength, crc }));
  const padded = json.length >= padJsonTo ? json : Buffer.concat([json, Buffer.alloc(padJsonTo - json.length, ' ')]);
  return Buffer.from(`${ENVELOPE_PREFIX}${padded.toString('base64')}\r\n`);
}

/**
 * The complete, intact records of a batch file, in order. A record whose bytes do not match its
 * CRC is passed over: a finished message's bytes are zeroed in place (spooled-body.ts), and a
 * segment goes on after it. Reading stops at the first record line that is torn or missing (the
 * end of what was written). Read a piece at a time: a large message's record is never held whole.
 */
export function readBatchRecords(file: string): AcceptedMessage[] {
  return readBatchFile(file).records;
}

/** readBatchRecords, with how many records were passed over (zeroed when finished, or damaged). */
export function readBatchFile(file: string): { records: AcceptedMessage[]; passedOver: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const fileSize = fs.fstatSync(fd).size;
    const records: AcceptedMessage[] = [];
    let passedOver = 0;
    for (let offset = 0; offset < fileSize;) {
      const line = readLineAt(fd, offset, fileSize);
      if (line === null || !line.startsWith(ENVELOPE_PREFIX)) break;
      let record: EnvelopeFields & { v: number; size: number; length: number; crc: number };
      try {
        record = JSON.parse(Buffer.from(line.slice(ENVELOPE_PREFIX.length), 'base64').toString('utf8')) as typeof record;
      } catch {
        break;
      }
      const start = offset + line.length + 2;
      if (record.v !== 2 || !Number.isSafeInteger(record.length) || record.length < 0 || start + record.length > fileSize) break;
      offset = start + record.length;
      if (crcOfRange(fd, start, record.length) !== record.crc) {
        passedOver++;
        continue;
      }
      const { v: _v, length, crc: _crc, ...fields } = record;
      records.push({ ...fields, spoolPath: file, bodyOffset: start, bodyLength: length });
    }
    return { records, passedOver };
  } finally {
    fs.closeSync(fd);
  }
}

/** The line (without CRLF) starting at `offset`, read in growing pieces; null without a CRLF. */
function readLineAt(fd: number, offset: number, fileSize: number): string | null {
  for (let size = 64 * 1024; ; size *= 4) {
    const buffer = Buffer.alloc(Math.min(size, fileSize - offset));
    const read = fs.readSync(fd, buffer, 0, buffer.length, offset);
    const end = buffer.subarray(0, read).indexOf('\r\n', 0, 'latin1');
    if (end >= 0) return buffer.subarray(0, end).toString('latin1');
    if (offset + read >= fileSize || size >= MAX_RECORD_LINE_BYTES) return null;
  }
}

function crcOfRange(fd: number, start: number, length: number): number {
  const buffer = Buffer.alloc(Math.min(length, 1024 * 1024));
  let crc = 0;
  for (let done = 0; done < length;) {
    const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, length - done), start + done);
    if (read === 0) return -1;
    crc = zlib.crc32(buffer.subarray(0, read), crc);
    done += read;
  }
  return crc;
}

/** An envelope line longer than this (recipients and all) is damage, not a record. */
const MAX_RECORD_LINE_BYTES = 16 * 1024 * 1024;

/** Read the envelope line of a spool file; null when the file does not start with one. */
export function readEnvelope(file: string): AcceptedMessage | null {
  const handle = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const read = fs.readSync(handle, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, read).toString('latin1');
    const end = text.indexOf('\r\n');
    if (!text.startsWith(ENVELOPE_PREFIX) || end < 0) return null;
    const envelope = JSON.parse(Buffer.from(text.slice(ENVELOPE_PREFIX.length, end), 'base64').toString('utf8')) as EnvelopeFields & { v: number };
    const size = fs.statSync(file).size;
    const { v: _version, ...fields } = envelope;
    return { ...fields, spoolPath: file, bodyOffset: end + 2, bodyLength: null, size: size - end - 2 };
  } catch {
    return null;
  } finally {
    fs.closeSync(handle);
  }
}
