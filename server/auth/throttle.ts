// Slows and then blocks repeated failed logins. Failures are counted per client address, per
// (user, client address) pair, and per user over all addresses: a brute force from one address
// stops that address; guessing one user's password from one address stops that pair; guessing it
// from many addresses blocks the user only at addresses it never signed in from, so a stranger who
// knows the scanner's user name cannot lock the scanner out at its own address. The clock is
// injected; the counters live in memory only (the known addresses are the caller's to remember).

export interface ThrottleOptions {
  /** Failures counted within this window. */
  windowMs: number;
  /** After this many failures, each further failed reply is delayed. */
  slowAfter: number;
  /** Delay added per failure beyond slowAfter, capped at maxDelayMs. */
  delayStepMs: number;
  maxDelayMs: number;
  /** After this many failures the address (or user at that address) is blocked for blockMs. */
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

export type ThrottleState = { blocked: null } | { blocked: 'address' | 'user'; until: number; rule: string };

/** What the caller knows of this attempt: who, from where, and whether the user signed in from there before. */
export interface Attempt {
  address: string;
  /** The user name as resolved (null when no user is involved, e.g. the console). */
  user: string | null;
  /** The user signed in successfully from this address recently: failures elsewhere never block it here. */
  knownAddress?: boolean;
}

const MAX_TRACKED = 100_000;

export class AuthThrottle {
  private readonly byAddress = new Map<string, Counter>();
  private readonly byPair = new Map<string, Counter>();
  private readonly byUser = new Map<string, Counter>();

  constructor(private readonly options: ThrottleOptions, private readonly now: () => number) {}

  /** Is this attempt blocked right now, and by which rule? */
  check(attempt: Attempt, override: Partial<ThrottleOptions> = {}): ThrottleState {
    const options = { ...this.options, ...override };
    const now = this.now();
    const a = this.live(this.byAddress, attempt.address, now, options);
    if (a && a.blockedUntil > now) return { blocked: 'address', until: a.blockedUntil, rule: 'auth:address-blocked' };
    if (attempt.user === null) return { blocked: null };
    const user = attempt.user.toLowerCase();
    const pair = this.live(this.byPair, `${user}\0${attempt.address}`, now, options);
    if (pair && pair.blockedUntil > now) return { blocked: 'user', until: pair.blockedUntil, rule: 'auth:user-blocked-at-address' };
    const u = this.live(this.byUser, user, now, options);
    if (u && u.blockedUntil > now && !attempt.knownAddress) return { blocked: 'user', until: u.blockedUntil, rule: 'auth:user-blocked-at-unknown-addresses' };
    return { blocked: null };
  }

  /** Count a failure; returns how long to delay the failure reply. */
  recordFailure(attempt: Attempt, override: Partial<ThrottleOptions> = {}): number {
    const options = { ...this.options, ...override };
    const now = this.now();
    const a = this.bump(this.byAddress, attempt.address, now, options);
    let failures = a.failures;
    if (attempt.user !== null) {
      const user = attempt.user.toLowerCase();
      failures = Math.max(failures, this.bump(this.byPair, `${user}\0${attempt.address}`, now, options).failures);
      const u = this.bump(this.byUser, user, now, options);
      if (!attempt.knownAddress) failures = Math.max(failures, u.failures);
    }
    const over = failures - options.slowAfter;
    return over > 0 ? Math.min(over * options.delayStepMs, options.maxDelayMs) : 0;
  }

  /** A successful login clears the address's and the pair's counts (not the user's: it may be under attack elsewhere). */
  recordSuccess(attempt: Pick<Attempt, 'address' | 'user'>): void {
    this.byAddress.delete(attempt.address);
    if (attempt.user !== null) this.byPair.delete(`${attempt.user.toLowerCase()}\0${attempt.address}`);
  }

  private live(map: Map<string, Counter>, key: string, now: number, options: ThrottleOptions): Counter | undefined {
    const counter = map.get(key);
    if (counter && counter.blockedUntil <= now && now - counter.firstAt > options.windowMs) {
      map.delete(key);
      return undefined;
    }
    return counter;
  }

  private bump(map: Map<string, Counter>, key: string, now: number, options: ThrottleOptions): Counter {
    const counter = this.live(map, key, now, options) ?? { failures: 0, firstAt: now, blockedUntil: 0 };
    counter.failures += 1;
    if (counter.failures >= options.blockAfter) counter.blockedUntil = now + options.blockMs;
    map.set(key, counter);
    if (map.size > MAX_TRACKED) map.delete(map.keys().next().value as string); // bound memory under a spray
    return counter;
  }
}
