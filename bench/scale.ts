// `npm run bench:scale [-- --messages N]`: what a long queue costs. A data folder is filled with N
// queued messages (spool files with envelopes and their index rows, as a weekend with the smart
// host down leaves them), then the real `relaydesk serve` starts on it. Prints the time to
// listening, the idle RSS and CPU of serve, and the time of `relaydesk queue list` (one page) and
// `relaydesk queue list --status retrying` and of its last page by position (as the Queues page
// scrolled to its end asks), and — with Debian's Chromium — the Queues page itself: time to its
// first rows and to the last rows after dragging the scrollbar to the end; against an empty folder
// in the same run. Reports
// figures; asserts nothing.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../server/paths';
import { SERVE_NODE_FLAGS } from '../server/serve-flags';
import { fillQueue } from './fill-queue';

const BIN = path.join(packageRoot(), 'bin', 'relaydesk.js');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = arg('--messages', 200_000);
const CLK_TCK = 100;

function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

function timed(args: string[]): number {
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Start serve on the folder; resolves with the process and the seconds until it listens. */
async function startServe(dir: string): Promise<{ child: ReturnType<typeof spawn>; seconds: number; output: () => string }> {
  const started = Date.now();
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, BIN, 'serve', '--data', dir, '--console', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (/listening on/.test(out)) { clearInterval(timer); resolve(); }
      if (Date.now() - started > 120_000) { clearInterval(timer); reject(new Error(`serve did not start: ${out}`)); }
    }, 10);
  });
  return { child, seconds: (Date.now() - started) / 1000, output: () => out };
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CONSOLE_PASSWORD = 'bench-scale-console';

/**
 * The Queues page in Chromium (when installed): from opening it to its first rows, and from
 * dragging the scrollbar to the end to the last rows shown. Milliseconds; null without Chromium.
 */
async function measureQueuesPage(consoleUrl: string, count: number): Promise<{ firstRowsMs: number; endRowsMs: number | null } | null> {
  if (!fs.existsSync(CHROMIUM)) return null;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    await page.goto(consoleUrl);
    await page.getByLabel('Password').fill(CONSOLE_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('main').getByRole('heading').first().waitFor();
    let started = Date.now();
    await page.evaluate(`location.hash = '#/queues'`);
    await page.getByText(count > 0 ? /Rows 1–/ : /Nothing to show\./).first().waitFor({ timeout: 60_000 });
    const firstRowsMs = Date.now() - started;
    if (count === 0) return { firstRowsMs, endRowsMs: null };
    started = Date.now();
    await page.evaluate(`(() => { const s = document.querySelector('[role=table][aria-label=Queue] [role=rowgroup]'); s.scrollTop = s.scrollHeight; })()`);
    await page.getByText(new RegExp(`Rows [\\d,]+–${count.toLocaleString('en-US')} of`)).waitFor({ timeout: 60_000 });
    // Runs in the page (browser types), so it is passed as source text; polled (the console's CSP forbids waitForFunction's eval).
    const loaded = `[...document.querySelectorAll('[role=table][aria-label=Queue] [role=rowgroup] [role=row]')].every((row) => !row.textContent.includes('Loading row'))`;
    while (!(await page.evaluate(loaded))) {
      if (Date.now() - started > 60_000) throw new Error('the last rows did not load within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { firstRowsMs, endRowsMs: Date.now() - started };
  } finally {
    await browser.close();
  }
}

async function stop(child: ReturnType<typeof spawn>, signal: NodeJS.Signals): Promise<void> {
  child.kill(signal);
  await new Promise((resolve) => child.on('exit', resolve));
}

async function measure(count: number): Promise<Record<string, string | number>> {
  const started = Date.now();
  const dir = await fillQueue(count);
  const seconds = (Date.now() - started) / 1000;
  const servers: Array<ReturnType<typeof spawn>> = [];
  try {
    execFileSync(process.execPath, [BIN, 'admin', 'set-password', '--password-stdin', '--data', dir], { input: CONSOLE_PASSWORD, stdio: ['pipe', 'ignore', 'ignore'] });
    const { child, seconds: startSeconds, output } = await startServe(dir);
    servers.push(child);
    // Let the first sweeps run, then measure 10 s of idle.
    await new Promise((r) => setTimeout(r, 5000));
    const cpuBefore = cpuMs(child.pid as number);
    await new Promise((r) => setTimeout(r, 10_000));
    const idleCpuPercent = (cpuMs(child.pid as number) - cpuBefore) / 100;
    const rss = rssMiB(child.pid as number);
    const listMs = timed(['queue', 'list', '--limit', '200', '--data', dir]);
    const retryingMs = timed(['queue', 'list', '--status', 'retrying', '--limit', '200', '--data', dir]);
    // The Queues page scrolled to its end asks for the last rows by position (the CLI asks the same way).
    const lastPageMs = timed(['queue', 'list', '--offset', String(Math.max(0, count - 100)), '--limit', '100', '--data', dir]);
    const consoleUrl = /console on (http:\/\/\S+)/.exec(output())?.[1];
    const queuesPage = consoleUrl ? await measureQueuesPage(consoleUrl, count).catch((err: Error) => { console.error(`bench: Queues page: ${err.message}`); return null; }) : null;
    // After a crash recovery looks up every spool file (see Spool.recover).
    await stop(child, 'SIGKILL');
    const crashed = await startServe(dir);
    servers.push(crashed.child);
    await stop(crashed.child, 'SIGTERM');
    return {
      messages: count, fillSeconds: seconds.toFixed(1), startSeconds: startSeconds.toFixed(2), startAfterCrashSeconds: crashed.seconds.toFixed(2),
      idleRssMiB: rss.toFixed(0), idleCpuPercent: idleCpuPercent.toFixed(1), queueListMs: listMs.toFixed(0), queueListLastPageMs: lastPageMs.toFixed(0), queueListRetryingMs: retryingMs.toFixed(0),
      queuesPageFirstRowsMs: queuesPage ? String(queuesPage.firstRowsMs) : '-', queuesPageEndRowsMs: queuesPage?.endRowsMs != null ? String(queuesPage.endRowsMs) : '-',
    };
  } finally {
    // Whatever failed, no serve is left running on the folder.
    for (const server of servers) if (server.exitCode === null && server.signalCode === null) await stop(server, 'SIGKILL');
    // A million files: retried, and a leftover folder must not lose the figures.
    try { fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 }); } catch (err) { console.error(`bench: could not remove ${dir}: ${(err as Error).message}`); }
  }
}

async function main(): Promise<void> {
  const rows = [await measure(0), await measure(MESSAGES)];
  const keys = Object.keys(rows[0] ?? {});
  console.log(`| ${keys.join(' | ')} |\n|${keys.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${keys.map((k) => row[k]).join(' | ')} |`);
  const out = path.join(packageRoot(), 'bench', 'results', `scale-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), host: os.cpus().length, rows }, null, 2));
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exitCode = 1;
});
