// Password hashing: salted scrypt, verified on libuv's threadpool so the event loop never waits.
// Format: scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>. Never log a password or a hash.
import crypto from 'node:crypto';

/** SMTP users: a scanner may sign in for every message (a verified-login cache helps too). */
const SCRYPT_N = 16384;
/** The console's admin password: OWASP's N=2^17 (about 290 ms per check on our 2-core machines). */
export const ADMIN_SCRYPT_N = 2 ** 17;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const KEY_LENGTH = 32;
const SALT_BYTES = 16;

function scrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto.scrypt(password, salt, KEY_LENGTH, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, cost = SCRYPT_N): Promise<string> {
  const salt = crypto.randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, cost, SCRYPT_R, SCRYPT_P);
  return `scrypt$${cost}$${SCRYPT_R}$${SCRYPT_P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}

/** Reject passwords an admin would regret; the message says what to change. */
export function passwordProblem(password: string): string | null {
  if (password.length < 8) return 'the password must have at least 8 characters';
  if (password.length > 1024) return 'the password must have at most 1024 characters';
  if (/[\r\n\0]/.test(password)) return 'the password must not contain line breaks or NUL';
  return null;
}
