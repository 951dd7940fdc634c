// Bearer tokens for machines that read the console's /metrics and /healthz (Prometheus, a
// monitoring probe): `relaydesk admin token create NAME` prints one once; only its SHA-256 is
// stored. A token reads metrics and health, nothing else.
import crypto from 'node:crypto';
import { AdminError } from '../contract/errors';
import type { Store } from '../store/store';

const TOKENS_KEY = 'admin.apiTokens';
const PREFIX = 'rdk_';

export interface ApiToken { name: string; sha256: string; createdAt: string }

function read(store: Store): ApiToken[] {
  const raw = store.getMeta(TOKENS_KEY);
  return raw ? (JSON.parse(raw) as ApiToken[]) : [];
}

function digest(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

export function listApiTokens(store: Store): Array<Omit<ApiToken, 'sha256'>> {
  return read(store).map(({ sha256: _hash, ...token }) => token);
}

/** A new token (shown once); a name is unique. */
export function createApiToken(store: Store, name: string, now: Date): string {
  const trimmed = name.trim();
  if (!/^[\w .@-]{1,64}$/.test(trimmed)) throw new AdminError('invalid', 'a token name has 1 to 64 letters, digits, spaces, dots, @, _ or -', 'name');
  const token = `${PREFIX}${crypto.randomBytes(32).toString('base64url')}`;
  store.transaction(() => {
    const tokens = read(store);
    if (tokens.some((t) => t.name.toLowerCase() === trimmed.toLowerCase())) throw new AdminError('conflict', `a token named "${trimmed}" exists; revoke it first`, 'name');
    store.setMeta(TOKENS_KEY, JSON.stringify([...tokens, { name: trimmed, sha256: digest(token), createdAt: now.toISOString() }]));
  });
  return token;
}

export function revokeApiToken(store: Store, name: string): void {
  store.transaction(() => {
    const tokens = read(store);
    const kept = tokens.filter((t) => t.name.toLowerCase() !== name.trim().toLowerCase());
    if (kept.length === tokens.length) throw new AdminError('not-found', `no token named "${name}"`, 'name');
    store.setMeta(TOKENS_KEY, JSON.stringify(kept));
  });
}

/** The name of the token an Authorization header carries, or null. */
export function checkApiToken(store: Store, authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]?.startsWith(PREFIX)) return null;
  const given = Buffer.from(digest(match[1]), 'hex');
  const found = read(store).find((t) => crypto.timingSafeEqual(Buffer.from(t.sha256, 'hex'), given));
  return found?.name ?? null;
}
