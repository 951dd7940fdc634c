// The smtp-server adaptations stay correct only for the pinned version: these tests fail when
// an upgrade changes the code they patch, or when the greeting delay would come back.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assertPatchable, PINNED_SMTP_SERVER_VERSION, stockInitDelaysGreeting } from '../../server/engine/smtp-server-patches';

describe('smtp-server patches', () => {
  it('is pinned exactly in package.json to the version the patches were written for', () => {
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['smtp-server']).toBe(PINNED_SMTP_SERVER_VERSION);
    expect(() => assertPatchable()).not.toThrow();
  });

  it('knows the stock greeting delay it removes (an upgrade that drops it needs a review)', () => {
    expect(stockInitDelaysGreeting()).toBe(true);
  });
});
