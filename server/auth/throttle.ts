// Slows and then blocks repeated failed logins, per client address and per user name, so a
// brute force from one address (or against one user from many) stops, while other users and
// other addresses keep working. The clock is injected; the state lives in memory only.

export interface ThrottleOptions {
  /** Failures counted within this window. */
  windowMs: number;
  /** After this many failures, each further failed reply is delayed. */
  slowAfter: number;
  /** Delay added per failure beyond slowAfter, capped at maxDelayMs. */
  delayStepMs: number;
  maxDelayMs: number;
  /** After this many failures the address (or user) is blocked for blockMs. */
  blockAfter: number;
  blockMs: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  windowMs: 15 * 60_000,
  slowAfter: 3,
  delayStepMs: 1000,
  maxDelayMs: 5000,
  blockAfter: 10,
  blockMs: 15 * 60_000,
};

interface Counter { failures: number; firstAt: number; blockedUntil: number }

export type ThrottleState = { blocked: null } | { blocked: 'address' | 'user'; until: number };

export class AuthThrottle {
  private readonly byAddress = new Map<string, Counter>();
  private readonly byUser = new Map<string, Counter>();

  constructor(private readonly options: ThrottleOptions, private readonly now: () => number) {}

  /** Is this address, or this user, blocked right now? */
  check(address: string, user: string | null): ThrottleState {
    const now = this.now();
    const a = this.live(this.byAddress, address, now);
    if (a && a.blockedUntil > now) return { blocked: 'address', until: a.blockedUntil };
    const u = user === null ? undefined : this.live(this.byUser, user.toLowerCase(), now);
    if (u && u.blockedUntil > now) return { blocked: 'user', until: u.blockedUntil };
    return { blocked: null };
  }

  /** Count a failure; returns how long to delay the 535 reply. */
  recordFailure(address: string, user: string | null): number {
    const now = this.now();
    const a = this.bump(this.byAddress, address, now);
    const u = user === null ? null : this.bump(this.byUser, user.toLowerCase(), now);
    const failures = Math.max(a.failures, u?.failures ?? 0);
    const over = failures - this.options.slowAfter;
    return over > 0 ? Math.min(over * this.options.delayStepMs, this.options.maxDelayMs) : 0;
  }

  /** A successful login clears the address's count (not the user's: that one may be under attack elsewhere). */
  recordSuccess(address: string): void {
    this.byAddress.delete(address);
  }

  private live(map: Map<string, Counter>, key: string, now: number): Counter | undefined {
    const counter = map.get(key);
    if (counter && counter.blockedUntil <= now && now - counter.firstAt > this.options.windowMs) {
      map.delete(key);
      return undefined;
    }
    return counter;
  }

  private bump(map: Map<string, Counter>, key: string, now: number): Counter {
    const counter = this.live(map, key, now) ?? { failures: 0, firstAt: now, blockedUntil: 0 };
    counter.failures += 1;
    if (counter.failures >= this.options.blockAfter) counter.blockedUntil = now + this.options.blockMs;
    map.set(key, counter);
    if (map.size > 100_000) map.delete(map.keys().next().value as string); // bound memory under a spray
    return counter;
  }
}
