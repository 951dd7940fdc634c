// The Queues page with a long queue, in Debian Chromium against `relaydesk serve --console`: the
// list holds only the rows in view, scrolls to any position (rows fetched by position from the
// index), keeps its place when the data refreshes, acts on a row from its menu, and passes axe.
import fs from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillQueue } from '../../bench/fill-queue';
import { openStore } from '../../server/store/store';
import { haveChromium, launchChromium, requireChromiumInCi } from '../helpers/browser';
import { cli, serve, type Served } from '../helpers/serve-process';
import { eventually, tempDir } from '../helpers/test-app';

const SCREENSHOTS = path.resolve(__dirname, '..', '..', 'test-results', 'screenshots');
const CONSOLE_PASSWORD = 'console-e2e-password';
const MESSAGES = 3000;
requireChromiumInCi();

interface QueuesConsole { dir: string; served: Served; browser: Browser; page: Page }

/** A data folder holding `messages` queued messages, serve with its console on it, and Chromium signed in (on the servers page). */
async function openQueuesConsole(messages: number): Promise<QueuesConsole> {
  const dir = await fillQueue(messages, tempDir());
  await cli(['admin', 'set-password', '--password-stdin', '--data', dir], CONSOLE_PASSWORD);
  await cli(['user', 'add', 'scanner', '--password-stdin', '--data', dir], 'scanner-e2e-password');
  const served = await serve(dir, ['--console', '127.0.0.1:0']);
  const url = await eventually(() => /relaydesk: console on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(served.output())?.[1]);
  const browser = await launchChromium();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.setDefaultTimeout(8000);
  await page.goto(url);
  await page.getByLabel('Password').fill(CONSOLE_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('main').getByRole('heading').first().waitFor();
  return { dir, served, browser, page };
}

async function closeQueuesConsole(c: QueuesConsole | undefined): Promise<void> {
  if (!c) return;
  await c.browser.close();
  c.served.child.kill('SIGTERM');
  await c.served.exited;
  fs.rmSync(c.dir, { recursive: true, force: true, maxRetries: 5 });
}

describe.runIf(haveChromium)('Queues page with a long queue', () => {
  let opened: QueuesConsole | undefined;
  let page: Page;
  let ids: string[];

  beforeAll(async () => {
    opened = await openQueuesConsole(MESSAGES);
    page = opened.page;
    const store = openStore({ dataDir: opened.dir });
    ids = store.queuePage({}, MESSAGES, null).entries.map((m) => m.id);
    store.close();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(() => closeQueuesConsole(opened));

  /** From another page, so the list starts at its top (a goto to the same hash keeps the page as it is). */
  const openQueues = async () => {
    await page.evaluate(`location.hash = '#/servers'`);
    await page.getByRole('main').getByRole('heading', { name: 'Virtual servers' }).waitFor();
    await page.evaluate(`location.hash = '#/queues'`);
    await page.getByRole('main').getByRole('heading', { name: 'Queues' }).waitFor();
  };
  const summary = () => page.getByText(/^In the queue: /);
  const list = () => page.getByRole('table', { name: 'Queue' });
  const messageRows = () => list().getByRole('rowgroup').getByRole('row');
  const scrollTo = (fraction: number) => page.evaluate(`(() => {
    const scroller = document.querySelector('[role=table][aria-label=Queue] [role=rowgroup]');
    scroller.scrollTop = (scroller.scrollHeight - scroller.clientHeight) * ${fraction};
  })()`);

  it('shows the whole queue as one list but puts only the rows in view in the page', async () => {
    await openQueues();
    await page.getByText(`Rows 1–`).waitFor();
    expect(await summary().innerText()).toMatch(new RegExp(`In the queue: ${MESSAGES.toLocaleString('en-US')} queued, 0 frozen.*Rows 1–\\d+ of ${MESSAGES.toLocaleString('en-US')}, oldest first`));
    expect(await list().getAttribute('aria-rowcount')).toBe(String(MESSAGES + 1));
    await list().getByRole('row', { name: new RegExp(ids[0] ?? '-') }).waitFor();
    const rendered = await messageRows().count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(40);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'queues-long.png') });
    const results = await new AxeBuilder({ page }).exclude('[data-tabster-dummy]').analyze();
    expect(results.violations.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`)).toEqual([]);
  });

  it('scrolls to the middle and to the end: the rows there are fetched by position and are the right messages', async () => {
    await openQueues();
    await list().getByRole('row', { name: new RegExp(ids[0] ?? '-') }).waitFor();
    await scrollTo(0.5);
    const firstShown = await eventually(async () => {
      const text = await summary().innerText();
      const first = Number(/Rows ([\d,]+)–/.exec(text)?.[1]?.replace(/,/g, '') ?? 0);
      return first > 1000 ? first : undefined;
    });
    expect(firstShown).toBeLessThan(2000);
    await list().getByRole('row', { name: new RegExp(ids[firstShown - 1] ?? '-') }).waitFor();
    expect(await list().getByRole('row', { name: new RegExp(ids[firstShown - 1] ?? '-') }).getAttribute('aria-rowindex')).toBe(String(firstShown + 1));
    // The keyboard reaches the end, as it would in any list.
    await list().getByRole('rowgroup').focus();
    await page.keyboard.press('End');
    await list().getByRole('row', { name: new RegExp(ids[MESSAGES - 1] ?? '-') }).waitFor();
    // A refresh (every 5 s) keeps the place.
    await page.waitForTimeout(5500);
    await list().getByRole('row', { name: new RegExp(ids[MESSAGES - 1] ?? '-') }).waitFor();
  }, 30_000);

  it('freezes a message from its row menu; the count and the row say so', async () => {
    await openQueues();
    const id = ids[2] ?? '-';
    await list().getByRole('row', { name: new RegExp(id) }).getByRole('button', { name: `Actions for ${id}` }).click();
    await page.getByRole('menuitem', { name: 'Freeze' }).click();
    await summary().filter({ hasText: /In the queue: 2,999 queued, 1 frozen/ }).waitFor();
    // "Waiting to be sent" shows queued messages only: the frozen one is under Frozen.
    await page.getByRole('combobox', { name: 'Show' }).click();
    await page.getByRole('option', { name: 'Frozen' }).click();
    await list().getByRole('row', { name: new RegExp(id) }).getByText('frozen').waitFor();
    expect(await messageRows().count()).toBe(1);
  });

  it('a filter the index cannot count grows the list as it is scrolled, until its end', async () => {
    await openQueues();
    await page.getByRole('combobox', { name: 'Show' }).click();
    await page.getByRole('option', { name: 'All messages' }).click();
    await page.getByLabel('Destination').fill('partner.test');
    await summary().filter({ hasText: 'and more' }).waitFor();
    await list().getByRole('rowgroup').focus();
    const text = await eventually(async () => {
      await page.keyboard.press('End');
      const status = await summary().innerText();
      return status.includes('and more') ? undefined : status;
    }, 20_000);
    expect(text).toContain(`of ${MESSAGES.toLocaleString('en-US')}, oldest first`);
    await list().getByRole('row', { name: new RegExp(ids[MESSAGES - 1] ?? '-') }).waitFor();
  }, 30_000);
});

// Past 10 million pixels (here 200,000 rows of 52 px) the scrollbar maps positions proportionally:
// a pixel is a fraction of a row, so the keys move by rows and pages of rows instead.
const SCALED_MESSAGES = 200_000;

describe.runIf(haveChromium)('Queues page with a queue taller than the browser can scroll', () => {
  let opened: QueuesConsole | undefined;
  let page: Page;
  /** The id at a position, oldest first, read from the store as the test needs it. */
  const idAt = (position: number) => {
    const store = openStore({ dataDir: opened?.dir ?? '', quickCheck: false });
    try {
      return store.queuePage({}, 1, null, position).entries[0]?.id ?? '-';
    } finally {
      store.close();
    }
  };

  beforeAll(async () => {
    opened = await openQueuesConsole(SCALED_MESSAGES);
    page = opened.page;
    await page.evaluate(`location.hash = '#/queues'`);
    await page.getByText('Rows 1–').waitFor({ timeout: 20_000 });
  }, 120_000);

  afterAll(() => closeQueuesConsole(opened), 60_000);

  const list = () => page.getByRole('table', { name: 'Queue' });
  const firstShown = async () => Number((/Rows ([\d,]+)–/.exec(await page.getByText(/^In the queue: /).innerText())?.[1] ?? '0').replace(/,/g, ''));

  it('caps the scroll height, reaches the middle and the end, and moves by a row and by a page with the keys, and by rows with the wheel', async () => {
    expect(await list().getAttribute('aria-rowcount')).toBe(String(SCALED_MESSAGES + 1));
    const heights = await page.evaluate(`(() => { const s = document.querySelector('[role=table][aria-label=Queue] [role=rowgroup]'); return [s.scrollHeight, s.clientHeight]; })()`) as [number, number];
    expect(heights[0]).toBeLessThanOrEqual(10_000_000);
    const visibleRows = Math.ceil(heights[1] / 52) + 1;
    await page.evaluate(`(() => { const s = document.querySelector('[role=table][aria-label=Queue] [role=rowgroup]'); s.scrollTop = (s.scrollHeight - s.clientHeight) / 2; })()`);
    const middle = await eventually(async () => { const first = await firstShown(); return first > 90_000 ? first : undefined; });
    expect(middle).toBeLessThan(110_000);
    await list().getByRole('row', { name: new RegExp(idAt(middle - 1)) }).waitFor();
    await list().getByRole('rowgroup').focus();
    await page.keyboard.press('PageDown');
    await eventually(async () => (await firstShown()) === middle + visibleRows - 1);
    await list().getByRole('row', { name: new RegExp(idAt(middle + visibleRows - 2)) }).waitFor();
    await page.keyboard.press('ArrowDown');
    await eventually(async () => (await firstShown()) === middle + visibleRows);
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('PageUp');
    await eventually(async () => (await firstShown()) === middle);
    // The mouse wheel moves rows too: 2,600 pixels are 50 rows of 52 pixels, as in a short list,
    // not the rows 2,600 pixels of the scaled scrollbar stand for (52 here, where a pixel is
    // 1.04 rows; about 260 at a million messages).
    await list().getByRole('rowgroup').hover();
    await page.mouse.wheel(0, 2600);
    await eventually(async () => (await firstShown()) === middle + 50);
    await page.mouse.wheel(0, -2600);
    await eventually(async () => (await firstShown()) === middle);
    await page.keyboard.press('End');
    await list().getByRole('row', { name: new RegExp(idAt(SCALED_MESSAGES - 1)) }).waitFor();
    await page.keyboard.press('Home');
    await list().getByRole('row', { name: new RegExp(idAt(0)) }).waitFor();
  }, 60_000);
});
