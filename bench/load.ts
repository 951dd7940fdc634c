// Bounded SMTP load generator: N messages, C concurrent clients, one message per connection
// (like scanners and most applications). Plain, or STARTTLS + AUTH PLAIN with a TLS 1.2 client.
// Every loop is bounded in count and in time; only loopback targets.
import { RawSmtp, plainAuth } from '../server/smtp/line-client';

export interface LoadOptions {
  host: string;
  port: number;
  messages: number;
  concurrency: number;
  sizeBytes: number;
  tlsAuth: { user: string; password: string } | null;
  /** STARTTLS clients offer the session of their previous connection (as a reconnecting scanner does). */
  resumeTls?: boolean;
  /** Stop early after this long, whatever is left. */
  maxSeconds: number;
  from: string;
  to: string;
}

export interface LoadResult { sent: number; failed: number; seconds: number; latenciesMs: number[]; firstError: string | null; tlsResumed: number }

function body(size: number): string {
  const line = 'Relaydesk benchmark payload line, 76 characters long, repeated to size......\r\n';
  const header = 'Subject: bench\r\nFrom: <bench@bench.example>\r\nTo: <sink@remote.example>\r\n\r\n';
  let text = header;
  while (text.length + line.length <= size) text += line;
  // Always end on a line break, so the "." that ends DATA stands on its own line.
  return text;
}

/** One worker's TLS session, offered again on its next connection when resumeTls is on. */
interface TlsMemory { session: Buffer | undefined; resumed: number }

async function oneMessage(options: LoadOptions, payload: string, memory: TlsMemory): Promise<void> {
  const { client, greeting } = await RawSmtp.connect(options.port, { host: options.host });
  try {
    if (greeting.code !== 220) throw new Error(`greeting ${greeting.raw}`);
    await client.command('EHLO bench.local');
    if (options.tlsAuth) {
      const tls = await client.startTls({ maxVersion: 'TLSv1.2', rejectUnauthorized: false, ...(options.resumeTls && memory.session ? { session: memory.session } : {}) });
      if (tls.code !== 220) throw new Error(`STARTTLS ${tls.raw}`);
      const { session, reused } = client.tlsSession();
      memory.session = session;
      if (reused) memory.resumed++;
      await client.command('EHLO bench.local');
      const auth = await client.command(`AUTH PLAIN ${plainAuth(options.tlsAuth.user, options.tlsAuth.password)}`);
      if (auth.code !== 235) throw new Error(`AUTH ${auth.raw}`);
    }
    for (const command of [`MAIL FROM:<${options.from}>`, `RCPT TO:<${options.to}>`]) {
      const reply = await client.command(command);
      if (reply.code !== 250) throw new Error(`${command} ${reply.raw}`);
    }
    const data = await client.command('DATA');
    if (data.code !== 354) throw new Error(`DATA ${data.raw}`);
    const done = await client.command(`${payload}.`);
    if (done.code !== 250) throw new Error(`end of DATA ${done.raw}`);
    client.write('QUIT\r\n');
  } finally {
    client.close();
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const payload = body(options.sizeBytes);
  const deadline = Date.now() + options.maxSeconds * 1000;
  const latenciesMs: number[] = [];
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  let tlsResumed = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    const memory: TlsMemory = { session: undefined, resumed: 0 };
    while (next < options.messages && Date.now() < deadline) {
      next++;
      const t0 = process.hrtime.bigint();
      try {
        await oneMessage(options, payload, memory);
        latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
    tlsResumed += memory.resumed;
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { sent: latenciesMs.length, failed, seconds, latenciesMs, firstError, tlsResumed };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
