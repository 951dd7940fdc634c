// Checks SMTP credentials against the store's users. A successful scrypt check is remembered
// for a few minutes as an HMAC under a per-process random key (never the password itself), so
// a scanner that logs in for every message does not pay a 40 ms scrypt each time.
import crypto from 'node:crypto';
import type { StoredUser } from '../store/store';
import { verifyPassword } from './passwords';
import { verifyCramMd5 } from './cram-md5';

const VERIFIED_CACHE_MS = 5 * 60_000;
const VERIFIED_CACHE_MAX = 10_000;

export interface AuthenticatorDeps {
  findUser(name: string): StoredUser | null;
  now(): number;
}

export type LoginResult =
  | { ok: true; user: StoredUser }
  | { ok: false; reason: 'unknown-user' | 'disabled' | 'bad-password' | 'no-cram-secret' };

export interface Authenticator {
  /** PLAIN and LOGIN. */
  checkPassword(name: string, password: string, defaultDomain: string | null): Promise<LoginResult>;
  /** CRAM-MD5: the client's hex digest for our challenge, checked against the stored HMAC-MD5 contexts. */
  checkCramMd5(name: string, challenge: string, response: string, defaultDomain: string | null): LoginResult;
  /** Resolve a login name ("alice", completed with the default domain when that is how she is stored). */
  resolveUser(name: string, defaultDomain: string | null): StoredUser | null;
}

export function createAuthenticator(deps: AuthenticatorDeps): Authenticator {
  const cacheKey = crypto.randomBytes(32);
  const verified = new Map<string, number>(); // hmac → expiry
  const inFlight = new Map<string, Promise<boolean>>(); // hmac → the scrypt check under way

  const resolveUser = (name: string, defaultDomain: string | null): StoredUser | null => {
    const exact = deps.findUser(name);
    if (exact || !defaultDomain || name.includes('@')) return exact;
    return deps.findUser(`${name}@${defaultDomain}`);
  };

  return {
    resolveUser,
    async checkPassword(name, password, defaultDomain) {
      const user = resolveUser(name, defaultDomain);
      if (!user) {
        // Spend the same time as a real check so user names cannot be probed by timing.
        await verifyPassword(password, DUMMY_HASH);
        return { ok: false, reason: 'unknown-user' };
      }
      if (!user.enabled) return { ok: false, reason: 'disabled' };
      const mac = crypto.createHmac('sha256', cacheKey).update(`${user.name}\0${user.passwordHash}\0${password}`).digest('base64');
      const expiry = verified.get(mac);
      if (expiry !== undefined && expiry > deps.now()) return { ok: true, user };
      // Ten scanners signing in at once share one scrypt run instead of queueing ten.
      let check = inFlight.get(mac);
      if (!check) {
        check = verifyPassword(password, user.passwordHash).finally(() => inFlight.delete(mac));
        inFlight.set(mac, check);
      }
      if (!(await check)) return { ok: false, reason: 'bad-password' };
      if (verified.size >= VERIFIED_CACHE_MAX) verified.clear();
      verified.set(mac, deps.now() + VERIFIED_CACHE_MS);
      return { ok: true, user };
    },
    checkCramMd5(name, challenge, response, defaultDomain) {
      const user = resolveUser(name, defaultDomain);
      if (!user) return { ok: false, reason: 'unknown-user' };
      if (!user.enabled) return { ok: false, reason: 'disabled' };
      if (!user.cramSecret) return { ok: false, reason: 'no-cram-secret' };
      return verifyCramMd5(user.cramSecret, challenge, response) ? { ok: true, user } : { ok: false, reason: 'bad-password' };
    },
  };
}

// A valid hash of a random password, for constant-time answers about unknown users.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
