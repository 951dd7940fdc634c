// Golden transcripts (test/golden/*.golden): the KB 823019 scenarios as a person reads them —
// client lines (C:), the server's reply (S:, "*" matches the rest) and the logged events (E: type,
// code, rule, in order) — replayed over a real socket against a fresh server.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RelaydeskEvent, SessionEvent } from '../../server/contract/events';
import type { VirtualServerPatch } from '../../server/store/store';
import { RawSmtp } from '../../server/smtp/line-client';
import { startTestApp } from '../helpers/test-app';

const GOLDEN = path.resolve(__dirname, '..', 'golden');
const files = fs.readdirSync(GOLDEN).filter((f) => f.endsWith('.golden')).sort();

describe('golden transcripts', () => {
  it('has the KB 823019 scenarios', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('%s', async (file) => {
    const lines = fs.readFileSync(path.join(GOLDEN, file), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    const setting = (key: string) => lines.find((l) => l.startsWith(`${key}: `))?.slice(key.length + 2);
    const t = await startTestApp({ users: [{ name: 'alice', password: 'correct horse battery' }], domains: ['example.com'], server: JSON.parse(setting('server') ?? '{}') as VirtualServerPatch });
    const events: RelaydeskEvent[] = [];
    t.app.bus.subscribe((e) => events.push(e));
    try {
      const from = setting('from');
      const { client, greeting } = await RawSmtp.connect(t.port, from ? { localAddress: from } : {});
      let last = greeting.raw.split('\n').at(-1) ?? '';
      const expectedEvents: string[] = [];
      for (const line of lines) {
        if (line.startsWith('C: ')) {
          const command = line.slice(3);
          const reply = command === 'STARTTLS' ? await client.startTls() : await client.command(command);
          last = reply.raw.split('\n').at(-1) ?? '';
        } else if (line.startsWith('S: ')) {
          const want = line.slice(3);
          if (want.endsWith('*')) expect(last.startsWith(want.slice(0, -1)), `${file}: ${last}`).toBe(true);
          else expect(last, file).toBe(want);
        } else if (line.startsWith('E: ')) {
          expectedEvents.push(line.slice(3));
        }
      }
      client.close();
      const seen = events.filter((e): e is SessionEvent => 'session' in e && 'decision' in e && Boolean(e.decision))
        .map((e) => ('decision' in e && e.decision ? `${e.type} ${e.decision.code} ${e.decision.rule}` : ''));
      // The expected events appear in this order (other events may come between them).
      let at = 0;
      for (const wanted of expectedEvents) {
        const found = seen.indexOf(wanted, at);
        expect(found, `${file}: "${wanted}" not logged after position ${at} in ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(0);
        at = found + 1;
      }
    } finally {
      await t.close();
    }
  });
});
