// OAuth2 settings and the sealing of refresh tokens: what the schema refuses, and that a sealed
// value opens only with its own key and untampered.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { oauth2SettingsSchema, oauthEndpoints } from '../../server/contract/settings';
import { fileKeySecretBox, SecretBoxError } from '../../server/oauth/secret-box';
import { tempDir } from '../helpers/test-app';

const base = { provider: 'microsoft365', clientId: '11111111-2222-3333-4444-555555555555', flow: 'device' } as const;

describe('OAuth2 settings', () => {
  it('fills in Microsoft endpoints with the tenant, and the app-only scope for client credentials', () => {
    const settings = oauth2SettingsSchema.parse({ ...base, tenant: 'contoso.onmicrosoft.com' });
    expect(oauthEndpoints(settings)).toEqual({
      authorization: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize',
      token: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      device: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode',
      revocation: null,
      scope: 'https://outlook.office.com/SMTP.Send offline_access', redirectHost: 'localhost',
    });
    expect(oauthEndpoints(oauth2SettingsSchema.parse({ ...base, flow: 'app' })).scope).toBe('https://outlook.office365.com/.default');
    expect(oauthEndpoints(oauth2SettingsSchema.parse({ ...base, provider: 'google', flow: 'browser' })).scope).toBe('https://mail.google.com/');
    expect(oauthEndpoints(oauth2SettingsSchema.parse({ ...base, provider: 'google', flow: 'browser' })).revocation).toBe('https://oauth2.googleapis.com/revoke');
  });

  it('refuses what cannot work: Google without the browser, plain http off this machine, a custom provider without endpoints, an odd tenant', () => {
    const issues = (input: object) => oauth2SettingsSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ ...base, provider: 'google' })).toEqual(['flow: Google allows the Gmail scope only with the browser sign-in']);
    expect(issues({ ...base, provider: 'custom', tokenEndpoint: 'http://idp.example/token', scope: 'smtp', deviceEndpoint: 'https://idp.example/device' })[0]).toMatch(/^tokenEndpoint: must be https/);
    expect(issues({ ...base, provider: 'custom', tokenEndpoint: 'http://127.0.0.1:8080/token', scope: 'smtp', deviceEndpoint: 'http://127.0.0.1:8080/device' })).toEqual([]);
    expect(issues({ ...base, provider: 'custom' }).sort()).toEqual(['deviceEndpoint: the device-code sign-in needs the device authorization endpoint', 'scope: a custom provider needs the scope to ask for', 'tokenEndpoint: a custom provider needs its token endpoint']);
    expect(issues({ ...base, tenant: 'contoso/../evil' })[0]).toMatch(/^tenant: /);
  });
});

describe('sealing refresh tokens with the key file', () => {
  it('round-trips, uses a fresh IV each time, and refuses a tampered value, another key or another box', () => {
    const dir = tempDir();
    const box = fileKeySecretBox(dir);
    const sealed = box.seal('refresh-token-value');
    expect(sealed).toMatch(/^k1:/);
    expect(sealed).not.toContain('refresh-token-value');
    expect(box.seal('refresh-token-value')).not.toBe(sealed);
    expect(fileKeySecretBox(dir).open(sealed)).toBe('refresh-token-value');
    if (process.platform !== 'win32') expect(fs.statSync(path.join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(() => box.open(`k1:${raw.toString('base64')}`)).toThrow(SecretBoxError);
    expect(() => fileKeySecretBox(tempDir()).open(sealed)).toThrow(/cannot be opened with this key/);
    expect(() => box.open('s1:AAAA')).toThrow(/sealed by another store of secrets/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
