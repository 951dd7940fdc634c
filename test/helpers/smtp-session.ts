// A client session as most tests begin it: EHLO, STARTTLS, EHLO again, AUTH PLAIN.
import { plainAuth, RawSmtp } from '../../server/smtp/line-client';

/** Connects, secures the session and signs in; returns the client and the reply to AUTH. */
export async function signedInClient(port: number, user: string, password: string, options: { localAddress?: string; ehlo?: string } = {}) {
  const { client } = await RawSmtp.connect(port, options.localAddress ? { localAddress: options.localAddress } : {});
  const ehlo = `EHLO ${options.ehlo ?? 'client.test'}`;
  await client.command(ehlo);
  await client.startTls();
  await client.command(ehlo);
  const auth = await client.command(`AUTH PLAIN ${plainAuth(user, password)}`);
  return { client, auth };
}

/** One AUTH PLAIN attempt on a plain session from the given address; returns the reply line. */
export async function plainLogin(port: number, from: string, user: string, password: string): Promise<string> {
  const { client } = await RawSmtp.connect(port, { localAddress: from });
  await client.command('EHLO client.test');
  const reply = await client.command(`AUTH PLAIN ${plainAuth(user, password)}`);
  client.close();
  return reply.raw;
}
