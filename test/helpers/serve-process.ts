// `relaydesk serve` as a child process (bin/relaydesk.js, built by `npm test`), on a prepared data
// folder whose default server listens on a free port.
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { App } from '../../server/app';
import { DEFAULT_SERVER_NAME } from '../../server/contract/settings';
import { SERVE_NODE_FLAGS } from '../../server/serve-flags';
import { eventually, tempDir } from './test-app';

export const BIN = path.resolve(__dirname, '..', '..', 'bin', 'relaydesk.js');

export function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export interface Served { child: ChildProcessWithoutNullStreams; port: number; output: () => string; exited: Promise<number | null> }

/** A data folder as a first start makes it, but with the default server on port 0 (any free port). */
export async function preparedDataDir(): Promise<string> {
  const dir = tempDir();
  const app = new App({ dataDir: dir, firstStartPort: 0 });
  await app.ensureDefaults();
  app.store.addAcceptedDomain({ domain: 'example.com', action: 'drop', forwardTo: null });
  app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { holdRemote: true } });
  app.store.close();
  return dir;
}

export async function serve(dir: string, extra: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, BIN, 'serve', '--data', dir, ...extra], { stdio: 'pipe' });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await eventually(() => {
    const match = /relaydesk: Default SMTP virtual server listening on 127\.0\.0\.1:(\d+) \(starttls\)/.exec(out);
    return match ? Number(match[1]) : 0;
  }, 15_000);
  return { child, port, output: () => out, exited };
}
