// A line-oriented SMTP client over a real socket: send a line, read the (multi-line) reply, upgrade
// with STARTTLS. A layer of its own (no policy, no store): the self-probe, the smart host certificate
// check and the tests where exact replies matter all use it.
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  lines: string[];
  /** The last line without the code, e.g. "5.7.1 Unable to relay for <x@y>". */
  text: string;
  /** Every line joined, e.g. "550 5.7.1 Unable to relay for <x@y>". */
  raw: string;
}

export class RawSmtp {
  private buffer = '';
  private waiters: Array<() => void> = [];
  private ended = false;
  private socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  static async connect(port: number, options: { host?: string; localAddress?: string; implicitTls?: tls.ConnectionOptions } = {}): Promise<{ client: RawSmtp; greeting: Reply }> {
    const host = options.host ?? '127.0.0.1';
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const plain = net.connect({ host, port, localAddress: options.localAddress });
      plain.once('error', reject);
      if (!options.implicitTls) {
        plain.once('connect', () => resolve(plain));
        return;
      }
      const secure = tls.connect({ socket: plain, ...options.implicitTls }, () => resolve(secure));
      secure.once('error', reject);
    });
    const client = new RawSmtp(socket);
    return { client, greeting: await client.readReply() };
  }

  get tlsSocket(): tls.TLSSocket | null {
    return this.socket instanceof tls.TLSSocket ? this.socket : null;
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Read one complete reply; rejects if the server closes first or nothing arrives in time. */
  async readReply(timeoutMs = 10_000): Promise<Reply> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const lines = this.buffer.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3} /.test(lines[i] ?? '') || /^\d{3}$/.test(lines[i] ?? '')) {
          const replyLines = lines.slice(0, i + 1);
          this.buffer = lines.slice(i + 1).join('\r\n');
          const last = replyLines[replyLines.length - 1] ?? '';
          return { code: Number(last.slice(0, 3)), lines: replyLines, text: last.slice(4), raw: replyLines.join('\n') };
        }
      }
      if (this.ended) throw new Error(`connection closed before a complete reply (buffer: ${JSON.stringify(this.buffer)})`);
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new Error(`no reply within ${timeoutMs} ms (buffer: ${JSON.stringify(this.buffer)})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  async command(line: string): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.readReply();
  }

  write(data: string): void {
    this.socket.write(data);
  }

  /** STARTTLS and the handshake; returns the reply to STARTTLS. */
  async startTls(options: tls.ConnectionOptions = {}): Promise<Reply> {
    const reply = await this.command('STARTTLS');
    if (reply.code !== 220) return reply;
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: plain, rejectUnauthorized: false, ...options }, () => resolve(s));
      s.once('error', reject);
    });
    this.socket = secure;
    this.buffer = '';
    this.attach(secure);
    return reply;
  }

  /** After STARTTLS: the session to offer on the next connection (resumption), and whether this one was resumed. */
  tlsSession(): { session: Buffer | undefined; reused: boolean } {
    const secure = this.socket instanceof tls.TLSSocket ? this.socket : null;
    return { session: secure?.getSession(), reused: secure?.isSessionReused() ?? false };
  }

  /** Resolves when the server has closed the connection. */
  async closed(timeoutMs = 10_000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!this.ended && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - performance.now());
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return this.ended;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function plainAuth(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`).toString('base64');
}
