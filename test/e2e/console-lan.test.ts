// The console on every address (`serve --console 0.0.0.0:PORT`, TLS), driven in Chromium through
// a second loopback address as a browser on the LAN would reach it: the page loads, the admin signs
// in and sees the servers. Tests use loopback only (our machines' rule), so 127.0.0.2 stands in
// for the machine's LAN address; the Host check treats both the same way (an address of this machine).
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../helpers/browser';
import { cli, preparedDataDir, serve, type Served } from '../helpers/serve-process';
import { eventually } from '../helpers/test-app';

const PASSWORD = 'console-lan-password';

describe.runIf(haveChromium)('console on every address, in Chromium', () => {
  let served: Served;
  let dir: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = await preparedDataDir();
    await cli(['admin', 'set-password', '--password-stdin', '--data', dir], PASSWORD);
    served = await serve(dir, ['--console', '0.0.0.0:0']);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    served?.child.kill('SIGTERM');
    await served?.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('signs in through 127.0.0.2 over TLS and shows the virtual servers', async () => {
    const port = await eventually(() => /relaydesk: console on https:\/\/0\.0\.0\.0:(\d+)\//.exec(served.output())?.[1]);
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 840 } });
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    const response = await page.goto(`https://127.0.0.2:${port}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['strict-transport-security']).toBe('max-age=31536000');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto(`https://127.0.0.2:${port}/#/servers`);
    await page.getByRole('main').getByText('Default SMTP virtual server').first().waitFor();
    await context.close();
  });
});
