// `npm run bench [-- --quick]`: Relaydesk against the floor of its stack (bare smtp-server with
// fsync) and a private Postfix instance that holds mail, in one run, interleaved. Prints msg/s
// (median of repeats), p50/p99 latency, server CPU ms per message and peak RSS, then the ratios;
// saves JSON and Markdown under bench/results/. A benchmark reports figures; it asserts nothing.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { App } from '../server/app';
import { DEFAULT_SERVER_NAME } from '../server/contract/settings';
import { packageRoot } from '../server/paths';
import { SERVE_NODE_FLAGS } from '../server/serve-flags';
import { manyConnectionRules, startBenchDns } from './dns-server';
import { createSelfSignedCertificate } from '../server/tls/certificate-tools';
import { percentile, runLoad } from './load';

const QUICK = process.argv.includes('--quick');
const ROOT = packageRoot();
const BIN = path.join(ROOT, 'bin', 'relaydesk.js');
const CLK_TCK = 100;

interface Target {
  name: string;
  port: number;
  /** Processes whose CPU counts for this target. */
  pids(): number[];
  supportsTlsAuth: boolean;
  stop(): Promise<void>;
}

/** tls: STARTTLS + AUTH with a full handshake per connection; tls-resumed: each client offers its previous session. */
interface Scenario { mode: 'plain' | 'tls' | 'tls-resumed'; concurrency: number; sizeBytes: number; messages: number }

interface Measurement { target: string; scenario: string; repeat: number; msgPerSec: number; p50: number; p99: number; cpuMsPerMsg: number; peakRssMiB: number; sent: number; failed: number; error: string | null; /** Connections whose TLS session was resumed. */ resumed: number }

function scenarioName(s: Scenario): string {
  const mode = s.mode === 'plain' ? 'plain' : s.mode === 'tls' ? 'STARTTLS+AUTH' : 'STARTTLS+AUTH resumed';
  return `${mode} c=${s.concurrency} ${s.sizeBytes >= 1024 * 100 ? '100 KiB' : '1 KiB'}`;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function procStat(pid: number): { cpuTicks: number; ppid: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (field 3); utime=14, stime=15, cutime=16, cstime=17; ppid=4
    const num = (field: number) => Number(fields[field - 3]);
    return { cpuTicks: num(14) + num(15) + num(16) + num(17), ppid: num(4) };
  } catch {
    return null;
  }
}

function rssKiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function childrenOf(parent: number): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => procStat(pid)?.ppid === parent);
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}: ${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

async function startRelaydesk(work: string, logging: boolean, connectionRules: { dnsServer: string; count: number } | null = null): Promise<Target> {
  const dir = fs.mkdtempSync(path.join(work, 'relaydesk-'));
  const app = new App({ dataDir: dir, firstStartPort: 0 });
  await app.ensureDefaults();
  const current = app.store.getServer(DEFAULT_SERVER_NAME);
  app.store.updateServer(DEFAULT_SERVER_NAME, {
    loggingEnabled: logging,
    maxConnections: null,
    access: { anonymous: true, requireSecureChannel: false, relayMode: 'only-list', maxConnectionsPerAddress: null },
    relayRules: [{ kind: 'subnet', network: '127.0.0.0', prefix: 8 }],
    messages: { ...current.messages, maxMessageBytes: 50 * 1024 * 1024, maxMessagesPerConnection: null },
    delivery: { holdRemote: true, ...(connectionRules ? { dnsServers: [connectionRules.dnsServer] } : {}) }, // held, like the Postfix instance
    // "All except the list": a long deny list that never matches the loopback client, with domain
    // entries, so every connection is checked against all of it and needs the (cached) reverse name.
    ...(connectionRules ? { connectionRules: manyConnectionRules(connectionRules.count) } : {}),
  });
  await app.addUser('bench', 'bench-password');
  app.store.close();
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, BIN, 'serve', '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const match = await waitForLine(child, /listening on 127\.0\.0\.1:(\d+)/);
  return {
    name: connectionRules ? `Relaydesk (${connectionRules.count.toLocaleString('en')} rules)` : logging ? 'Relaydesk' : 'Relaydesk (logging off)', port: Number(match[1]), supportsTlsAuth: true,
    pids: () => [child.pid as number],
    stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); },
  };
}

async function startBare(work: string): Promise<Target> {
  const dir = fs.mkdtempSync(path.join(work, 'bare-'));
  const material = await createSelfSignedCertificate({ commonName: 'localhost' });
  fs.writeFileSync(path.join(dir, 'cert.pem'), material.certPem);
  fs.writeFileSync(path.join(dir, 'key.pem'), material.keyPem);
  fs.mkdirSync(path.join(dir, 'mail'));
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'bench', 'bare-server.js'), path.join(dir, 'mail'), path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const match = await waitForLine(child, /^(\d+)$/m);
  return {
    name: 'bare smtp-server + fsync', port: Number(match[1]), supportsTlsAuth: true,
    pids: () => [child.pid as number],
    stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); },
  };
}

/** A private Postfix instance (own config and queue under the work folder) that holds all mail. */
async function startPostfix(work: string): Promise<Target | null> {
  if (!fs.existsSync('/usr/sbin/postfix') || process.getuid?.() !== 0) return null;
  const dir = fs.mkdtempSync(path.join(work, 'postfix-'));
  // Postfix daemons run as the postfix user and must be able to reach their queue.
  fs.chmodSync(work, 0o755);
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  // STARTTLS + AUTH PLAIN like the other targets: a certificate, and Cyrus SASL with its own
  // sasldb (needs Debian's sasl2-bin for saslpasswd2; without it Postfix is measured plain only).
  const material = await createSelfSignedCertificate({ commonName: 'bench.localdomain' });
  fs.writeFileSync(path.join(dir, 'cert.pem'), material.certPem);
  fs.writeFileSync(path.join(dir, 'key.pem'), material.keyPem, { mode: 0o600 });
  const sasl = fs.existsSync('/usr/sbin/saslpasswd2');
  const config = path.join(dir, 'etc');
  fs.mkdirSync(config);
  if (sasl) {
    // Debian's Postfix reads $config_directory/sasl/smtpd.conf.
    fs.mkdirSync(path.join(config, 'sasl'));
    // The database gets a lock file beside it (LMDB): its folder must belong to postfix.
    fs.mkdirSync(path.join(dir, 'sasldb'));
    fs.writeFileSync(path.join(config, 'sasl', 'smtpd.conf'), `pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: ${dir}/sasldb/sasldb2\n`);
    execFileSync('saslpasswd2', ['-p', '-c', '-f', path.join(dir, 'sasldb', 'sasldb2'), '-u', 'bench.localdomain', 'bench'], { input: 'bench-password' });
    execFileSync('chown', ['-R', 'postfix', path.join(dir, 'sasldb')]);
  }
  const master = fs.readFileSync('/etc/postfix/master.cf', 'utf8').replace(/^smtp\s+inet.*$/m, `127.0.0.1:${port} inet n - n - - smtpd`);
  fs.writeFileSync(path.join(config, 'master.cf'), master);
  fs.writeFileSync(path.join(config, 'main.cf'), [
    'compatibility_level = 3.6', `queue_directory = ${dir}/queue`, `data_directory = ${dir}/data`, 'mail_owner = postfix',
    'setgid_group = postdrop', 'inet_interfaces = 127.0.0.1', 'inet_protocols = ipv4', 'myhostname = bench.localdomain', 'mydestination =',
    'mynetworks = 127.0.0.0/8', 'smtpd_recipient_restrictions = permit_mynetworks, reject',
    'smtpd_client_restrictions = static:HOLD', `maillog_file_prefixes = ${dir}`, `maillog_file = ${dir}/maillog`, 'smtpd_banner = $myhostname ESMTP',
    'default_process_limit = 200', 'smtpd_client_connection_rate_limit = 0', 'smtpd_client_connection_count_limit = 0',
    'message_size_limit = 52428800', 'smtp_host_lookup = native',
    `smtpd_tls_cert_file = ${dir}/cert.pem`, `smtpd_tls_key_file = ${dir}/key.pem`, 'smtpd_tls_security_level = may',
    ...(sasl ? ['smtpd_sasl_auth_enable = yes', 'smtpd_sasl_type = cyrus', 'smtpd_sasl_path = smtpd', `cyrus_sasl_config_path = ${config}/sasl`,
      'smtpd_sasl_local_domain = bench.localdomain', 'smtpd_tls_auth_only = yes'] : []),
  ].join('\n') + '\n');
  for (const sub of ['queue', 'data']) fs.mkdirSync(path.join(dir, sub));
  execFileSync('chown', ['postfix', path.join(dir, 'data')]);
  try {
    execFileSync('postfix', ['-c', config, 'set-permissions'], { stdio: 'ignore' });
  } catch { /* older releases: start creates what it needs */ }
  try {
    execFileSync('postfix', ['-c', config, 'start'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`Postfix did not start: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
  const pidFile = path.join(dir, 'queue', 'pid', 'master.pid');
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const masterPid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  await new Promise((r) => setTimeout(r, 500));
  return {
    name: `Postfix ${execFileSync('postconf', ['-d', '-h', 'mail_version'], { encoding: 'utf8' }).trim()}`, port, supportsTlsAuth: sasl,
    pids: () => [masterPid, ...childrenOf(masterPid)],
    stop: async () => { execFileSync('postfix', ['-c', config, 'stop'], { stdio: 'ignore' }); },
  };
}

function smtpSource(port: number, s: Scenario): Promise<{ seconds: number; error: string | null }> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn('smtp-source', ['-s', String(s.concurrency), '-m', String(s.messages), '-l', String(s.sizeBytes), '-f', 'bench@bench.example', '-t', 'sink@remote.example', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, error: code === 0 ? null : stderr.trim().split('\n')[0] ?? `exit ${code}` });
    });
  });
}

async function measure(target: Target, s: Scenario, repeat: number): Promise<Measurement> {
  const cpuBefore = target.pids().reduce((sum, pid) => sum + (procStat(pid)?.cpuTicks ?? 0), 0);
  let peakKiB = 0;
  const sampler = setInterval(() => { peakKiB = Math.max(peakKiB, target.pids().reduce((sum, pid) => sum + rssKiB(pid), 0)); }, 100);
  let sent = 0;
  let failed = 0;
  let seconds = 0;
  let latencies: number[] = [];
  let error: string | null = null;
  let resumed = 0;
  const useSmtpSource = s.mode === 'plain' && fs.existsSync('/usr/sbin/smtp-source');
  if (useSmtpSource) {
    const result = await smtpSource(target.port, s);
    seconds = result.seconds;
    sent = result.error ? 0 : s.messages;
    error = result.error;
  } else {
    const result = await runLoad({
      host: '127.0.0.1', port: target.port, messages: s.messages, concurrency: s.concurrency, sizeBytes: s.sizeBytes,
      tlsAuth: s.mode === 'plain' ? null : { user: 'bench', password: 'bench-password' }, resumeTls: s.mode === 'tls-resumed', maxSeconds: 60,
      from: 'bench@bench.example', to: 'sink@remote.example',
    });
    ({ sent, failed, seconds } = result);
    latencies = result.latenciesMs;
    error = result.firstError;
    resumed = result.tlsResumed;
  }
  clearInterval(sampler);
  peakKiB = Math.max(peakKiB, target.pids().reduce((sum, pid) => sum + rssKiB(pid), 0));
  const cpuAfter = target.pids().reduce((sum, pid) => sum + (procStat(pid)?.cpuTicks ?? 0), 0);
  return {
    target: target.name, scenario: scenarioName(s), repeat, msgPerSec: sent / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99),
    cpuMsPerMsg: sent ? ((cpuAfter - cpuBefore) * (1000 / CLK_TCK)) / sent : NaN, peakRssMiB: peakKiB / 1024, sent, failed, error, resumed,
  };
}

/**
 * Every target serves some mail before anything is measured. A fresh Node process takes a few
 * thousand connections to reach its steady speed (its JIT and heap settle; measured here: the bare
 * server at plain c=1 went 440 → 890 msg/s over its first 5,000 messages, a Relaydesk that had
 * served them stayed near 1,000), while Postfix's processes are compiled C: measuring the Node
 * servers cold would compare their start-up with Postfix's steady state. A server runs for months.
 */
async function warmUp(targets: readonly Target[]): Promise<void> {
  const plain: Scenario[] = [
    { mode: 'plain', concurrency: 10, sizeBytes: 1024, messages: 3000 },
    { mode: 'plain', concurrency: 1, sizeBytes: 1024, messages: 3000 },
    { mode: 'plain', concurrency: 10, sizeBytes: 100 * 1024, messages: 300 },
  ];
  const started = Date.now();
  for (const target of targets) {
    for (const s of plain) {
      if (fs.existsSync('/usr/sbin/smtp-source')) await smtpSource(target.port, s);
      else await runLoad({ host: '127.0.0.1', port: target.port, messages: s.messages, concurrency: s.concurrency, sizeBytes: s.sizeBytes, tlsAuth: null, maxSeconds: 60, from: 'bench@bench.example', to: 'sink@remote.example' });
    }
    if (target.supportsTlsAuth) {
      await runLoad({ host: '127.0.0.1', port: target.port, messages: 300, concurrency: 10, sizeBytes: 1024, tlsAuth: { user: 'bench', password: 'bench-password' }, maxSeconds: 60, from: 'bench@bench.example', to: 'sink@remote.example' });
    }
  }
  console.log(`bench: warm-up done (${((Date.now() - started) / 1000).toFixed(0)} s, not measured)`);
}

const median = (values: number[]) => {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  return finite.length ? (finite[Math.floor(finite.length / 2)] as number) : NaN;
};
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'relaydesk-bench-'));
  const scenarios: Scenario[] = QUICK
    ? [
      { mode: 'plain', concurrency: 10, sizeBytes: 1024, messages: 1500 },
      { mode: 'tls', concurrency: 10, sizeBytes: 1024, messages: 500 },
      { mode: 'plain', concurrency: 1, sizeBytes: 1024, messages: 1000 },
    ]
    : [
      { mode: 'plain', concurrency: 1, sizeBytes: 1024, messages: 2000 },
      { mode: 'plain', concurrency: 10, sizeBytes: 1024, messages: 3000 },
      { mode: 'plain', concurrency: 50, sizeBytes: 1024, messages: 3000 },
      { mode: 'plain', concurrency: 10, sizeBytes: 100 * 1024, messages: 1000 },
      { mode: 'plain', concurrency: 50, sizeBytes: 100 * 1024, messages: 1000 },
      { mode: 'tls', concurrency: 1, sizeBytes: 1024, messages: 200 },
      { mode: 'tls', concurrency: 10, sizeBytes: 1024, messages: 1000 },
      { mode: 'tls', concurrency: 50, sizeBytes: 1024, messages: 1000 },
      { mode: 'tls-resumed', concurrency: 1, sizeBytes: 1024, messages: 200 },
      { mode: 'tls-resumed', concurrency: 10, sizeBytes: 1024, messages: 1000 },
    ];
  // --only=TEXT keeps the scenarios whose name contains TEXT (e.g. --only=STARTTLS).
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  if (only) scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => scenarioName(s).includes(only)));
  // The headline points (plain and STARTTLS+AUTH at c=10, 1 KiB, and plain c=1, each a target) get 5
  // interleaved repeats, the rest 2 (quick) or 3. A c=1 run is long enough (1,000–2,000 messages)
  // that one slow second of the shared machine does not decide it.
  const headline = (s: Scenario) => s.sizeBytes === 1024 && (s.concurrency === 10 || (s.concurrency === 1 && s.mode === 'plain'));
  const repeatsOf = (s: Scenario) => (headline(s) ? 5 : QUICK ? 2 : 3);
  const targets: Target[] = [];
  const results: Measurement[] = [];
  let dns: Awaited<ReturnType<typeof startBenchDns>> | null = null;
  try {
    targets.push(await startRelaydesk(work, true), await startBare(work));
    const postfix = await startPostfix(work);
    if (postfix) targets.push(postfix);
    else console.log('bench: Postfix not installed (or not root); comparing with the bare smtp-server only');
    if (!fs.existsSync('/usr/sbin/saslpasswd2')) console.log('bench: saslpasswd2 not installed (apt-get install sasl2-bin): Postfix is measured without STARTTLS+AUTH');
    const noLog = await startRelaydesk(work, false);
    targets.push(noLog);
    dns = await startBenchDns();
    const manyRules = await startRelaydesk(work, true, { dnsServer: dns.address, count: 10_000 });
    targets.push(manyRules);
    console.log(`bench: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Node ${process.version}; targets: ${targets.map((t) => t.name).join(', ')}`);
    await warmUp(targets);
    for (const s of scenarios) {
      for (let repeat = 0; repeat < repeatsOf(s); repeat++) {
        // Interleave, rotating the order, so drift on a shared machine falls on every target.
        const order = targets.slice(repeat % targets.length).concat(targets.slice(0, repeat % targets.length));
        for (const target of order) {
          if (s.mode !== 'plain' && !target.supportsTlsAuth) continue;
          // The logging-off and 10,000-rule variants are compared with Relaydesk at plain c=10 1 KiB only.
          if ((target === noLog || target === manyRules) && !(s.mode === 'plain' && s.concurrency === 10 && s.sizeBytes === 1024)) continue;
          const m = await measure(target, s, repeat);
          results.push(m);
          const resumedNote = s.mode === 'tls-resumed' ? `  (${m.resumed} of ${m.sent} resumed)` : '';
          process.stdout.write(`  ${scenarioName(s).padEnd(36)} ${target.name.padEnd(26)} ${fmt(m.msgPerSec).padStart(6)} msg/s${resumedNote}${m.error ? `  (${m.failed} failed: ${m.error})` : ''}\n`);
        }
      }
    }
  } finally {
    for (const t of targets) await t.stop().catch(() => undefined);
    dns?.close();
    fs.rmSync(work, { recursive: true, force: true });
  }

  const rows: string[] = ['| scenario | target | msg/s (median) | range (repeats) | p50 ms | p99 ms | server CPU ms/msg | peak RSS MiB |', '|---|---|---|---|---|---|---|---|'];
  const summary: Record<string, Record<string, { msgPerSec: number; p50: number; p99: number; cpuMsPerMsg: number; peakRssMiB: number }>> = {};
  for (const s of scenarios) {
    const name = scenarioName(s);
    for (const target of [...new Set(results.filter((r) => r.scenario === name).map((r) => r.target))]) {
      const runs = results.filter((r) => r.scenario === name && r.target === target);
      const entry = { msgPerSec: median(runs.map((r) => r.msgPerSec)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), cpuMsPerMsg: median(runs.map((r) => r.cpuMsPerMsg)), peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)) };
      (summary[name] ??= {})[target] = entry;
      const rates = runs.map((r) => r.msgPerSec).filter(Number.isFinite);
      const range = rates.length ? `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))} (${rates.length})` : '-';
      rows.push(`| ${name} | ${target} | ${fmt(entry.msgPerSec)} | ${range} | ${fmt(entry.p50, 1)} | ${fmt(entry.p99, 1)} | ${fmt(entry.cpuMsPerMsg, 2)} | ${fmt(entry.peakRssMiB)} |`);
    }
  }
  const ratio = (scenario: string, a: string, bPrefix: string) => {
    const entries = summary[scenario] ?? {};
    const b = bPrefix in entries ? bPrefix : Object.keys(entries).find((k) => k.startsWith(bPrefix));
    return b && entries[a] ? (entries[a].msgPerSec / (entries[b]?.msgPerSec ?? NaN)) : NaN;
  };
  const ratios = [
    `plain c=10 1 KiB: Relaydesk/Postfix ${fmt(ratio('plain c=10 1 KiB', 'Relaydesk', 'Postfix'), 2)} (target ≥ 1.5), Relaydesk/bare ${fmt(ratio('plain c=10 1 KiB', 'Relaydesk', 'bare'), 2)} (target ≥ 1.0)`,
    `plain c=1 1 KiB: Relaydesk/Postfix ${fmt(ratio('plain c=1 1 KiB', 'Relaydesk', 'Postfix'), 2)} (target ≥ 1.0)`,
    `server CPU per message, plain c=10 1 KiB: Relaydesk/bare ${fmt((summary['plain c=10 1 KiB']?.Relaydesk?.cpuMsPerMsg ?? NaN) / (Object.entries(summary['plain c=10 1 KiB'] ?? {}).find(([k]) => k.startsWith('bare'))?.[1].cpuMsPerMsg ?? NaN), 2)} (target ≤ 1.2)`,
    `STARTTLS+AUTH c=10 1 KiB: Relaydesk/Postfix ${fmt(ratio('STARTTLS+AUTH c=10 1 KiB', 'Relaydesk', 'Postfix'), 2)} (target ≥ 1.2), Relaydesk/bare ${fmt(ratio('STARTTLS+AUTH c=10 1 KiB', 'Relaydesk', 'bare'), 2)}; Relaydesk p99 ${fmt(summary['STARTTLS+AUTH c=10 1 KiB']?.Relaydesk?.p99 ?? NaN, 1)} ms (target ≤ 100)`,
    `live log cost, plain c=10 1 KiB: Relaydesk/Relaydesk (logging off) ${fmt(ratio('plain c=10 1 KiB', 'Relaydesk', 'Relaydesk (logging off)'), 3)} (target ≥ 0.95)`,
    `10,000 connection-control entries (warm reverse-DNS cache), plain c=10 1 KiB: Relaydesk (10,000 rules)/Relaydesk ${fmt(ratio('plain c=10 1 KiB', 'Relaydesk (10,000 rules)', 'Relaydesk'), 3)} (target ≥ 0.95)`,
    `peak RSS plain c=50 100 KiB: Relaydesk ${fmt(summary['plain c=50 100 KiB']?.Relaydesk?.peakRssMiB ?? NaN)} MiB (target ≤ 150)`,
    ...[1, 10].map((c) => {
      const rate = (scenario: string) => summary[scenario]?.Relaydesk?.msgPerSec ?? NaN;
      const resumed = results.filter((r) => r.target === 'Relaydesk' && r.scenario === `STARTTLS+AUTH resumed c=${c} 1 KiB`);
      return `TLS session resumption, c=${c}: Relaydesk resumed/full handshake ${fmt(rate(`STARTTLS+AUTH resumed c=${c} 1 KiB`) / rate(`STARTTLS+AUTH c=${c} 1 KiB`), 2)} (${resumed.reduce((n, r) => n + r.resumed, 0)} of ${resumed.reduce((n, r) => n + r.sent, 0)} connections resumed)`;
    }),
  ];
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
  const markdown = [`# Relaydesk benchmark ${new Date().toISOString()}${QUICK ? ' (quick)' : ''}`, '', `Machine: ${machine}`, '', ...rows, '', ...ratios.map((r) => `- ${r}`), ''].join('\n');
  console.log(`\n${markdown}`);
  const out = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  fs.writeFileSync(path.join(out, `${stamp}.json`), JSON.stringify({ machine, quick: QUICK, results, summary, ratios }, null, 2));
  fs.writeFileSync(path.join(out, `${stamp}.md`), markdown);
  console.log(`bench: results saved to bench/results/${stamp}.{json,md}`);
}

main().catch((err: unknown) => {
  console.error(`bench: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
