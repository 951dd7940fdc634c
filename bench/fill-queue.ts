// A data folder with a long queue, as a weekend with the smart host down leaves it: spool files
// (envelope and body) for messages to another domain, their index rows, and the mark of a clean
// stop. Used by `npm run bench:scale` and by the console test of a long queue.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from '../server/app';
import { newQueueId } from '../server/random-ids';
import { DEFAULT_SERVER_NAME } from '../server/contract/settings';
import { CLEAN_STOP_KEY } from '../server/spool/spool';
import { envelopeLine } from '../server/spool/spool-format';
import type { AcceptedMessage } from '../server/store/store';

/** Fills a new data folder (or `dir`, prepared by the caller) with `count` held messages, one second apart, oldest first. */
export async function fillQueue(count: number, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relaydesk-scale-'))): Promise<string> {
  const app = new App({ dataDir: dir, firstStartPort: 0 });
  await app.ensureDefaults();
  app.store.updateServer(DEFAULT_SERVER_NAME, { delivery: { holdRemote: true } });
  const started = Date.now();
  const queueDir = app.spool.queueDir;
  const body = Buffer.from(`Received: from scanner.office.test\r\nFrom: <scanner@example.com>\r\nTo: <office@partner.test>\r\nSubject: scan\r\n\r\n${'x'.repeat(900)}\r\n`);
  let batch: AcceptedMessage[] = [];
  for (let i = 0; i < count; i++) {
    const id = newQueueId();
    const message = { id, serverName: DEFAULT_SERVER_NAME, receivedAt: new Date(started - (count - i) * 1000).toISOString(), mailFrom: 'scanner@example.com', clientAddress: '192.0.2.20', authUser: null, recipients: [{ address: `office${i % 50}@partner.test`, domain: 'partner.test', route: 'remote' as const }] };
    const envelope = envelopeLine(message);
    const file = path.join(queueDir, `${id}.eml`);
    fs.writeFileSync(file, Buffer.concat([Buffer.from(envelope), body]));
    batch.push({ ...message, size: body.length, spoolPath: file, bodyOffset: Buffer.byteLength(envelope), bodyLength: null });
    if (batch.length === 5000) {
      app.store.insertMessages(batch);
      batch = [];
    }
  }
  if (batch.length) app.store.insertMessages(batch);
  app.store.setMeta(CLEAN_STOP_KEY, 'yes'); // as a clean stop leaves it
  app.store.checkpoint();
  app.store.close();
  return dir;
}
