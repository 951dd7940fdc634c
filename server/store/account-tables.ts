// Who signs in: users, the addresses they signed in from, and the OAuth2 sign-ins of smart
// hosts.
import { z } from 'zod';
import { senderPatternSchema, userNameSchema } from '../contract/config';
import { AdminError, parseOrThrow } from '../contract/errors';
import { type StoredUser, userLimitSchema, type UserRow, type StoredSignIn, type SignInRow, userFromRow } from './records';
import { StoreBase } from './store-base';

/** Users, known login addresses, OAuth2 sign-ins. */
export class AccountTables extends StoreBase {
  // ── users ──────────────────────────────────────────────────────────────────────────────

  listUsers(): StoredUser[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY name').all() as UserRow[]).map(userFromRow);
  }

  findUser(name: string): StoredUser | null {
    const row = this.stmt('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;
    return row ? userFromRow(row) : null;
  }

  addUser(user: { name: string; passwordHash: string; cramSecret: string | null; senders?: string[] }): void {
    const name = parseOrThrow(userNameSchema, user.name, 'name');
    const senders = parseOrThrow(z.array(senderPatternSchema), user.senders ?? [], 'senders');
    if (this.findUser(name)) throw new AdminError('conflict', `user "${name}" already exists`, 'name');
    const stamp = this.stamp();
    this.db.prepare(`INSERT INTO users (name, password_hash, cram_secret, enabled, senders_json, created_at, updated_at)
      VALUES (?, ?, ?, 1, ?, ?, ?)`).run(name, user.passwordHash, user.cramSecret, JSON.stringify(senders), stamp, stamp);
  }

  updateUser(name: string, change: { passwordHash?: string; cramSecret?: string | null; enabled?: boolean; senders?: string[]; perHour?: number | null; recipientsPerDay?: number | null }): void {
    const current = this.findUser(name);
    if (!current) throw new AdminError('not-found', `no user named "${name}"`, 'name');
    const senders = change.senders === undefined ? current.senders : parseOrThrow(z.array(senderPatternSchema), change.senders, 'senders');
    const perHour = change.perHour === undefined ? current.perHour : parseOrThrow(userLimitSchema, change.perHour, 'perHour');
    const recipientsPerDay = change.recipientsPerDay === undefined ? current.recipientsPerDay : parseOrThrow(userLimitSchema, change.recipientsPerDay, 'recipientsPerDay');
    this.db.prepare(`UPDATE users SET password_hash = ?, cram_secret = ?, enabled = ?, senders_json = ?, messages_per_hour = ?, recipients_per_day = ?, updated_at = ? WHERE name = ?`).run(
      change.passwordHash ?? current.passwordHash,
      change.cramSecret === undefined ? current.cramSecret : change.cramSecret,
      (change.enabled ?? current.enabled) ? 1 : 0,
      JSON.stringify(senders), perHour, recipientsPerDay, this.stamp(), current.name,
    );
  }

  removeUser(name: string): void {
    const result = this.db.prepare('DELETE FROM users WHERE name = ?').run(name);
    if (result.changes === 0) throw new AdminError('not-found', `no user named "${name}"`, 'name');
  }

  // ── known login addresses (the throttle never blocks a user where it signed in before) ──

  recordLoginAddress(user: string, address: string, at: string): void {
    this.stmt(`INSERT INTO login_addresses (user, address, last_success_at) VALUES (?, ?, ?)
      ON CONFLICT(user, address) DO UPDATE SET last_success_at = excluded.last_success_at`).run(user, address, at);
  }

  /** Addresses each user signed in from successfully since the cut-off. */
  loginAddressesSince(cutoff: string): Array<{ user: string; address: string; lastSuccessAt: string }> {
    return (this.stmt('SELECT user, address, last_success_at FROM login_addresses WHERE last_success_at >= ?').all(cutoff) as Array<{ user: string; address: string; last_success_at: string }>)
      .map((r) => ({ user: r.user, address: r.address, lastSuccessAt: r.last_success_at }));
  }

  pruneLoginAddresses(cutoff: string): number {
    return this.stmt('DELETE FROM login_addresses WHERE last_success_at < ?').run(cutoff).changes;
  }

  // ── OAuth2 sign-ins to smart hosts ─────────────────────────────────────────────────────

  getSignIn(serverName: string): StoredSignIn | null {
    const row = this.stmt('SELECT * FROM oauth_sign_ins WHERE server_name = ?').get(serverName) as SignInRow | undefined;
    return row ? {
      serverName: row.server_name, account: row.account, refreshTokenSealed: row.refresh_token_sealed, signedInAt: row.signed_in_at,
      lastRefreshAt: row.last_refresh_at, accessExpiresAt: row.access_expires_at, needsSignIn: row.needs_sign_in === 1, lastError: row.last_error,
    } : null;
  }

  /** A new sign-in replaces the old one and clears "sign-in needed". */
  saveSignIn(serverName: string, signIn: { account: string; refreshTokenSealed: string | null; accessExpiresAt: string | null; at: string }): void {
    this.stmt(`INSERT INTO oauth_sign_ins (server_name, account, refresh_token_sealed, signed_in_at, last_refresh_at, access_expires_at, needs_sign_in, last_error)
      VALUES (@serverName, @account, @refreshTokenSealed, @at, @at, @accessExpiresAt, 0, NULL)
      ON CONFLICT(server_name) DO UPDATE SET account = excluded.account, refresh_token_sealed = excluded.refresh_token_sealed,
        signed_in_at = excluded.signed_in_at, last_refresh_at = excluded.last_refresh_at, access_expires_at = excluded.access_expires_at,
        needs_sign_in = 0, last_error = NULL`).run({ serverName, ...signIn });
  }

  /** After a refresh: the rotated refresh token (if the provider rotated it) and the new expiry. */
  recordRefresh(serverName: string, refresh: { refreshTokenSealed: string | null; accessExpiresAt: string; at: string; signedInAt: string }): void {
    // Only for the sign-in the refresh started from: a new sign-in meanwhile (the CLI) wins.
    this.stmt(`UPDATE oauth_sign_ins SET refresh_token_sealed = COALESCE(@refreshTokenSealed, refresh_token_sealed),
      access_expires_at = @accessExpiresAt, last_refresh_at = @at, last_error = NULL
      WHERE server_name = @serverName AND signed_in_at = @signedInAt`).run({ serverName, ...refresh });
  }

  /** A refresh failed; needsSignIn when the grant itself is gone (invalid_grant), not for an outage. */
  recordSignInError(serverName: string, error: string, needsSignIn: boolean): void {
    this.stmt('UPDATE oauth_sign_ins SET last_error = ?, needs_sign_in = MAX(needs_sign_in, ?) WHERE server_name = ?').run(error, needsSignIn ? 1 : 0, serverName);
  }

  removeSignIn(serverName: string): boolean {
    return this.stmt('DELETE FROM oauth_sign_ins WHERE server_name = ?').run(serverName).changes > 0;
  }

}
