// `npm run bench:delivery`: delivered messages per second to a local smart host sink, 1 KiB
// messages, with 1 and 10 outbound connections. Messages are queued while held, then released;
// the clock runs from release until the sink has them all. Bounded in count and time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { App } from '../server/app';
import { DEFAULT_SERVER_NAME } from '../server/contract/settings';
import { packageRoot } from '../server/paths';
import { SERVE_NODE_FLAGS } from '../server/serve-flags';
import { openStore } from '../server/store/store';
import { runLoad } from './load';

const MESSAGES = process.argv.includes('--quick') ? 300 : 1000;

async function main(): Promise<void> {
  let received = 0;
  const sink = new SMTPServer({ authOptional: true, disableReverseLookup: true, logger: false, hideSTARTTLS: true, onData: (stream, _s, cb) => { stream.resume(); stream.on('end', () => { received++; cb(); }); } });
  sink.on('error', () => undefined); // resets from clients killed mid-session
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()));
  const sinkPort = (sink.server.address() as { port: number }).port;
  const rows: string[] = [];
  for (const connections of [1, 10]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relaydesk-delivery-bench-'));
    const app = new App({ dataDir: dir, firstStartPort: 0 });
    await app.ensureDefaults();
    app.store.updateServer(DEFAULT_SERVER_NAME, {
      maxConnections: null, access: { anonymous: true, requireSecureChannel: false, maxConnectionsPerAddress: null }, relayRules: [{ kind: 'subnet', network: '127.0.0.0', prefix: 8 }],
      delivery: { holdRemote: true, outboundConnections: connections, smartHost: { host: '127.0.0.1', port: sinkPort, security: 'none', verifyCertificate: false, authentication: 'none', user: null, password: null } },
      messages: { maxMessagesPerConnection: null },
    });
    app.store.close();
    const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, path.join(packageRoot(), 'bin', 'relaydesk.js'), 'serve', '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await new Promise<number>((resolve) => child.stdout.on('data', (d: Buffer) => { const m = /listening on 127\.0\.0\.1:(\d+)/.exec(d.toString()); if (m) resolve(Number(m[1])); }));
    const load = await runLoad({ host: '127.0.0.1', port, messages: MESSAGES, concurrency: 10, sizeBytes: 1024, tlsAuth: null, maxSeconds: 60, from: 'bench@bench.example', to: 'sink@remote.example' });
    received = 0;
    const started = process.hrtime.bigint();
    const store = openStore({ dataDir: dir });
    store.updateServer(DEFAULT_SERVER_NAME, { delivery: { holdRemote: false } });
    store.close();
    const deadline = Date.now() + 120_000;
    while (received < load.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rows.push(`| ${connections} | ${load.sent} | ${received} | ${(received / seconds).toFixed(0)} |`);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await new Promise<void>((resolve) => sink.close(() => resolve()));
  console.log(['| outbound connections | queued | delivered | delivered msg/s |', '|---|---|---|---|', ...rows].join('\n'));
}

main().catch((err: unknown) => {
  console.error(`bench: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
