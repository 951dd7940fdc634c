// The floor of our stack: bare smtp-server (greeting delay removed, as in the engine) that
// streams each message to its own file and fsyncs it before 250. No policy, no SQLite, no log.
// Run as a child process: node dist/bench/bare-server.js DIR CERT KEY; prints its port.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { applySmtpServerPatches, type ImmediateGreetingOption, SMTPServer } from '../server/engine/smtp-server-patches';

applySmtpServerPatches();
const [dir, certFile, keyFile] = process.argv.slice(2);
if (!dir || !certFile || !keyFile) throw new Error('usage: bare-server DIR CERT KEY');
let counter = 0;
const immediate: ImmediateGreetingOption = { immediateGreeting: true };
const server = new SMTPServer({
  ...immediate,
  key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile), minVersion: 'TLSv1.2',
  authOptional: true, allowInsecureAuth: false, disableReverseLookup: true, logger: false, size: 50 * 1024 * 1024,
  onAuth: (auth, _session, callback) => callback(auth.username === 'bench' && auth.password === 'bench-password' ? null : new Error('no'), { user: auth.username }),
  onData: (stream, _session, callback) => {
    const file = path.join(dir, `${process.pid}-${counter++}.eml`);
    pipeline(stream, fs.createWriteStream(file, { flush: true })).then(() => callback(), (err: Error) => callback(err));
  },
});
server.on('error', () => undefined);
server.listen(0, '127.0.0.1', () => {
  const address = server.server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
