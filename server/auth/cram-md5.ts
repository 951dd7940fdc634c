// CRAM-MD5 (RFC 2195) without keeping the password: what is stored is the HMAC-MD5 inner and
// outer contexts, the MD5 states after absorbing (key XOR ipad) and (key XOR opad), as Dovecot's
// CRAM-MD5 password scheme does. They answer any challenge, so they are still secrets (anyone
// holding them can sign in with CRAM-MD5), but they do not reveal the password, which PLAIN and
// LOGIN and every other service of the user keep to themselves. Node's crypto does not expose
// MD5's internal state, hence the small MD5 compression function below (RFC 1321).
import crypto from 'node:crypto';

export const CRAM_MD5_PREFIX = 'hmac-md5$';
const BLOCK = 64;
const INITIAL_STATE = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const SINES = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

/** One MD5 compression step over a 64-byte block. */
function compress(state: number[], block: Buffer): number[] {
  const words = Array.from({ length: 16 }, (_, i) => block.readUInt32LE(i * 4));
  let [a, b, c, d] = state as [number, number, number, number];
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) { f = (b & c) | (~b & d); g = i; } else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; } else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; } else { f = c ^ (b | ~d); g = (7 * i) % 16; }
    const shift = SHIFTS[(i >> 4) * 4 + (i % 4)] as number;
    const sum = (a + f + (SINES[i] as number) + (words[g] as number)) >>> 0;
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << shift) | (sum >>> (32 - shift)))) >>> 0;
  }
  return [(state[0]! + a) >>> 0, (state[1]! + b) >>> 0, (state[2]! + c) >>> 0, (state[3]! + d) >>> 0];
}

/** Finish an MD5 that already absorbed `absorbed` bytes into `state` with the rest of the input. */
export function md5Continue(state: readonly number[], rest: Buffer, absorbed: number): Buffer {
  const length = absorbed + rest.length;
  const padLength = ((BLOCK + 56 - ((length + 1) % BLOCK)) % BLOCK) + 1;
  const tail = Buffer.alloc(rest.length + padLength + 8);
  rest.copy(tail);
  tail[rest.length] = 0x80;
  tail.writeUInt32LE((length * 8) >>> 0, tail.length - 8);
  tail.writeUInt32LE(Math.floor((length * 8) / 2 ** 32), tail.length - 4);
  let current = [...state];
  for (let offset = 0; offset < tail.length; offset += BLOCK) current = compress(current, tail.subarray(offset, offset + BLOCK));
  const digest = Buffer.alloc(16);
  current.forEach((word, i) => digest.writeUInt32LE(word, i * 4));
  return digest;
}

export const MD5_INITIAL_STATE: readonly number[] = INITIAL_STATE;

function contextsOf(password: string): { inner: number[]; outer: number[] } {
  let key = Buffer.from(password, 'utf8');
  if (key.length > BLOCK) key = crypto.createHash('md5').update(key).digest();
  const padded = Buffer.alloc(BLOCK);
  key.copy(padded);
  const xor = (pad: number) => Buffer.from(padded.map((byte) => byte ^ pad));
  return { inner: compress(INITIAL_STATE, xor(0x36)), outer: compress(INITIAL_STATE, xor(0x5c)) };
}

/** The stored form: "hmac-md5$" + inner and outer MD5 states as 64 hex digits. */
export function cramMd5Contexts(password: string): string {
  const { inner, outer } = contextsOf(password);
  const bytes = Buffer.alloc(32);
  [...inner, ...outer].forEach((word, i) => bytes.writeUInt32LE(word, i * 4));
  return CRAM_MD5_PREFIX + bytes.toString('hex');
}

export function isCramMd5Contexts(value: string): boolean {
  return value.startsWith(CRAM_MD5_PREFIX) && /^[0-9a-f]{64}$/.test(value.slice(CRAM_MD5_PREFIX.length));
}

/** The digest a client holding the password sends for this challenge (lower-case hex), from the contexts. */
export function cramMd5Digest(contexts: string, challenge: string): string {
  if (!isCramMd5Contexts(contexts)) throw new Error('not CRAM-MD5 contexts');
  const bytes = Buffer.from(contexts.slice(CRAM_MD5_PREFIX.length), 'hex');
  const words = Array.from({ length: 8 }, (_, i) => bytes.readUInt32LE(i * 4));
  const innerDigest = md5Continue(words.slice(0, 4), Buffer.from(challenge, 'utf8'), BLOCK);
  return md5Continue(words.slice(4), innerDigest, BLOCK).toString('hex');
}

/** Does the client's response (hex digest) answer the challenge? Constant time. */
export function verifyCramMd5(contexts: string, challenge: string, response: string): boolean {
  const expected = Buffer.from(cramMd5Digest(contexts, challenge));
  const received = Buffer.from(response.toLowerCase());
  return expected.length === received.length && crypto.timingSafeEqual(expected, received);
}
