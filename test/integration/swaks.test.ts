// swaks (Debian), the tool admins and acceptance runs use, against the running engine: a
// scanner-style submission with STARTTLS and AUTH LOGIN, and an unauthenticated relay attempt.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app';

function swaks(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('swaks', args, { timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code) || 1 : 0, output: stdout + stderr }));
  });
}

describe('swaks', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ users: [{ name: 'scanner', password: 'scan-to-email-1' }], domains: ['example.com'] });
  });
  afterAll(() => t.close());

  it('submits with STARTTLS and AUTH LOGIN', async () => {
    const { code, output } = await swaks(['--server', `127.0.0.1:${t.port}`, '--tls', '--auth', 'LOGIN', '--auth-user', 'scanner', '--auth-password', 'scan-to-email-1', '--from', 'scanner@example.com', '--to', 'office@example.com']);
    expect(output).toMatch(/<~ {2}250 2\.6\.0 Queued as /);
    expect(code).toBe(0);
  });

  it('cannot relay without authentication', async () => {
    const { code, output } = await swaks(['--server', `127.0.0.1:${t.port}`, '--tls', '--from', 'a@elsewhere.net', '--to', 'b@elsewhere.org']);
    expect(output).toContain('530 5.7.0 Authentication required');
    expect(code).not.toBe(0);
  });
});
