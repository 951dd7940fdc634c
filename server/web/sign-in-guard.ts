// The console's sign-in throttle. Every attempt is counted *before* its password is checked, so
// parallel guesses cannot slip through a window; password checks (scrypt, the expensive part) run
// at most MAX_CONCURRENT_CHECKS at a time with a short queue, beyond which the answer is "busy".
// Failures slow further attempts exponentially, per address and over all addresses, and past a
// limit the answer is 429 with Retry-After until the window passes: never a hard lock that also
// refuses the right password. A browser that signed in before carries a signed "known device"
// cookie; its attempts skip the address and global delays (a flood from 127.0.0.1, where every
// local browser comes from, does not lock the admin out), with a small budget of its own.
import crypto from 'node:crypto';

export const WINDOW_MS = 15 * 60_000;
/** Free failures per address before delays start; then 250 ms doubling, capped. */
const FREE_FAILURES = 3;
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 8000;
/** An attempt that would have to wait longer than this is refused with 429 instead. */
const MAX_WAIT_MS = 8000;
/** Over all addresses: failures before a global delay starts. */
const GLOBAL_FREE_FAILURES = 20;
/** A known device's own budget of failures per window (a stolen cookie is no skeleton key). */
const DEVICE_FAILURES = 10;
export const MAX_CONCURRENT_CHECKS = 2;
const MAX_QUEUED_CHECKS = 8;

interface Window { failures: number; startedAt: number }

export type GuardVerdict =
  | { allowed: true; delayMs: number; release(success: boolean): void }
  | { allowed: false; retryAfterSeconds: number; reason: string };

export class SignInGuard {
  private readonly byAddress = new Map<string, Window>();
  private readonly byDevice = new Map<string, Window>();
  private global: Window = { failures: 0, startedAt: 0 };
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly now: () => number) {}

  /**
   * Admit an attempt (counting it as a failure at once), or refuse it. The caller waits delayMs,
   * runs the check inside runCheck(), and calls release(true) when the password was right.
   */
  admit(address: string, device: string | null): GuardVerdict {
    const now = this.now();
    if (device !== null) {
      const own = this.bump(this.byDevice, device, now);
      if (own.failures <= DEVICE_FAILURES) return this.admitted(now, 0, () => this.reset(this.byDevice, device));
      // A known device that keeps failing is treated like any other browser from here on.
    }
    const window = this.bump(this.byAddress, address, now);
    if (now - this.global.startedAt > WINDOW_MS) this.global = { failures: 0, startedAt: now };
    this.global.failures++;
    const delayMs = Math.max(delayFor(window.failures - FREE_FAILURES), delayFor(this.global.failures - GLOBAL_FREE_FAILURES));
    if (delayMs > MAX_WAIT_MS || delayMs >= MAX_DELAY_MS) {
      const retryAfterSeconds = Math.max(1, Math.ceil((window.startedAt + WINDOW_MS - now) / 1000));
      return { allowed: false, retryAfterSeconds, reason: 'too many failed sign-ins; try again later (a browser that signed in here before is not held back)' };
    }
    return this.admitted(now, delayMs, () => {
      this.reset(this.byAddress, address);
      this.global.failures = Math.max(0, this.global.failures - 1);
    });
  }

  /** Run a password check when a slot is free (scrypt costs memory and CPU: at most two at once). */
  async runCheck<T>(check: () => Promise<T>): Promise<T | 'busy'> {
    if (this.running >= MAX_CONCURRENT_CHECKS) {
      if (this.queue.length >= MAX_QUEUED_CHECKS) return 'busy';
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await check();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }

  private admitted(_now: number, delayMs: number, onSuccess: () => void): GuardVerdict {
    return { allowed: true, delayMs, release: (success) => { if (success) onSuccess(); } };
  }

  private bump(map: Map<string, Window>, key: string, now: number): Window {
    let window = map.get(key);
    if (!window || now - window.startedAt > WINDOW_MS) {
      window = { failures: 0, startedAt: now };
      map.set(key, window);
      if (map.size > 100_000) map.delete(map.keys().next().value as string);
    }
    window.failures++;
    return window;
  }

  private reset(map: Map<string, Window>, key: string): void {
    map.delete(key);
  }
}

function delayFor(over: number): number {
  return over <= 0 ? 0 : Math.min(BASE_DELAY_MS * 2 ** (over - 1), MAX_DELAY_MS);
}

/** "Known device" cookies: a random id and an HMAC under the console's key, so only we can mint them. */
export class DeviceCookies {
  constructor(private readonly key: Buffer) {}

  mint(): string {
    const id = crypto.randomBytes(16).toString('base64url');
    return `${id}.${this.mac(id)}`;
  }

  /** The device id when the cookie is ours, else null. */
  verify(cookie: string | undefined): string | null {
    if (!cookie) return null;
    const [id, mac] = cookie.split('.');
    if (!id || !mac) return null;
    const expected = Buffer.from(this.mac(id));
    const given = Buffer.from(mac);
    return expected.length === given.length && crypto.timingSafeEqual(expected, given) ? id : null;
  }

  private mac(id: string): string {
    return crypto.createHmac('sha256', this.key).update(id).digest('base64url');
  }
}
