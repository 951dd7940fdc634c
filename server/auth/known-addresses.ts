// The addresses each user signed in from successfully in the last 30 days, so the login throttle
// never blocks a user where it normally works. Kept in the store (it must survive a restart) and
// mirrored in memory; a success is written at most once an hour per (user, address).
import type { Store } from '../store/store';
import { KNOWN_ADDRESS_DAYS } from '../spool/retention';

const DAY_MS = 86_400_000;
const REWRITE_AFTER_MS = 60 * 60_000;

export class KnownLoginAddresses {
  private readonly lastSuccess = new Map<string, number>();

  constructor(private readonly store: Store, private readonly now: () => number) {
    const cutoff = new Date(now() - KNOWN_ADDRESS_DAYS * DAY_MS).toISOString();
    for (const row of store.loginAddressesSince(cutoff)) this.lastSuccess.set(key(row.user, row.address), Date.parse(row.lastSuccessAt));
  }

  isKnown(user: string, address: string): boolean {
    const at = this.lastSuccess.get(key(user, address));
    return at !== undefined && this.now() - at < KNOWN_ADDRESS_DAYS * DAY_MS;
  }

  recordSuccess(user: string, address: string): void {
    const now = this.now();
    const k = key(user, address);
    const before = this.lastSuccess.get(k);
    this.lastSuccess.set(k, now);
    if (before !== undefined && now - before < REWRITE_AFTER_MS) return;
    try {
      this.store.recordLoginAddress(user, address, new Date(now).toISOString());
    } catch { /* a full disk must not turn a good login into a failure; memory still knows it */ }
  }
}

function key(user: string, address: string): string {
  return `${user.toLowerCase()}\0${address}`;
}
