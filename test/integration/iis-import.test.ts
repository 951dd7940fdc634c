// `relaydesk import iis` through the real binary, with fixtures built from the documented formats:
// four virtual servers (grant and deny lists, subnets, the value IIS Manager writes for 127.0.0.1,
// an absent RelayIpList, a header-only one), domains of each kind, the PowerShell export's JSON;
// and files that must be refused with a precise message and nothing changed.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminHandlers } from '../../server/admin';
import { openStore } from '../../server/store/store';
import { cli, preparedDataDir } from '../helpers/serve-process';
import { startTestApp, type TestApp } from '../helpers/test-app';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'iis');
const fixture = (name: string) => path.join(FIXTURES, name);
const dirs: string[] = [];
const apps: TestApp[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  for (const a of apps.splice(0)) await a.close();
});

async function dataDir(): Promise<string> {
  const dir = await preparedDataDir();
  dirs.push(dir);
  return dir;
}

describe('relaydesk import iis', () => {
  it('previews with --dry-run and changes nothing; then imports every server, stopped, with its lists and domains', async () => {
    const dir = await dataDir();
    const dry = await cli(['import', 'iis', fixture('MetaBase.xml'), '--dry-run', '--data', dir]);
    expect(dry.code).toBe(0);
    // The default server here is "Default SMTP virtual server" too: the imported one gets another name.
    expect(dry.stdout).toContain('Default SMTP Virtual Server (IIS) (all addresses:25)');
    expect(dry.stdout).toMatch(/\[CHANGED\] Name: Default SMTP Virtual Server → Default SMTP Virtual Server \(IIS\)/);
    expect(dry.stdout).toMatch(/\[CHANGED\] Integrated Windows authentication: yes → CRAM-MD5 offered/);
    expect(dry.stdout).toMatch(/\[NOT IMPORTED\] Certificate: \(Windows certificate store\)/);
    expect(dry.stdout).toMatch(/export it with its private key as a \.pfx/);
    expect(dry.stdout).toMatch(/\[CHANGED\] Relay restrictions \(RelayIpList\): \(attribute absent\) → Only the list below: \(empty\)/);
    expect(dry.stdout).toMatch(/\[CHANGED\] IP address and TCP port \(ServerBindings\): 192\.168\.1\.10:2525:, 192\.168\.1\.11:2525: → 192\.168\.1\.10:2525/);
    expect(dry.stdout).toContain('relaydesk: dry run, nothing was changed');
    expect((await cli(['server', 'list', '--data', dir])).stdout).not.toContain('Scanners');

    const applied = await cli(['import', 'iis', fixture('MetaBase.xml'), '--data', dir]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('imported "Default SMTP Virtual Server (IIS)", "Scanners", "Relay list absent", "Header only" (stopped');
    const store = openStore({ dataDir: dir });
    try {
      const first = store.getServer('Default SMTP Virtual Server (IIS)');
      expect(first).toMatchObject({ bindAddress: 'all', port: 25, state: 'stopped', fqdn: 'mail.office.example', maxConnections: null });
      expect(first.access).toMatchObject({ anonymous: true, basicAuth: true, cramMd5: true, requireSecureChannel: true, requireStrongEncryption: true, relayForAuthenticated: true, connectionMode: 'all-except', relayMode: 'only-list' });
      expect(first.connectionRules).toEqual([{ kind: 'address', address: '10.9.9.9' }, { kind: 'subnet', network: '172.16.0.0', prefix: 12 }]);
      expect(first.relayRules).toEqual([{ kind: 'address', address: '127.0.0.1' }, { kind: 'address', address: '192.168.2.7' }, { kind: 'subnet', network: '192.168.1.0', prefix: 24 }]);
      expect(first.messages).toMatchObject({ maxMessageBytes: 2097152, maxSessionBytes: 10485760, maxMessagesPerConnection: 20, maxRecipientsPerMessage: 100, ndrCopyTo: 'postmaster@office.example' });
      expect(first.delivery).toMatchObject({
        masqueradeDomain: 'office.example', maxHopCount: 15, attemptDirectFirst: true, retryMinutes: { first: 15, second: 30, third: 60, subsequent: 240 },
        delayNotificationHours: 12, expirationHours: 48, outboundPort: 25, outboundTimeoutSeconds: 600,
        smartHost: { host: '10.0.0.1', port: 25, security: 'starttls', authentication: 'basic', user: 'relay@office.example', password: null },
      });
      // Windows folders are not carried to this Linux machine: the data folder's own are used.
      expect([first.delivery.dropFolder, first.messages.badmailFolder]).toEqual([null, null]);
      const scanners = store.getServer('Scanners');
      expect(scanners).toMatchObject({ bindAddress: '192.168.1.10', port: 2525, messages: { maxMessageBytes: null } });
      expect(scanners.access).toMatchObject({ anonymous: true, basicAuth: false, connectionMode: 'only-list', relayMode: 'only-list' });
      expect(scanners.connectionRules).toEqual([{ kind: 'address', address: '192.168.1.20' }, { kind: 'address', address: '192.168.1.21' }]);
      expect(scanners.relayRules).toEqual([{ kind: 'address', address: '127.0.0.1' }]);
      expect(store.getServer('Relay list absent')).toMatchObject({ access: { relayMode: 'only-list' }, relayRules: [] });
      expect(store.getServer('Header only')).toMatchObject({ access: { relayMode: 'only-list' }, relayRules: [] });
      expect(store.listAcceptedDomains()).toEqual([
        { domain: 'branch.office.example', action: 'drop', forwardTo: null },
        { domain: 'example.com', action: 'drop', forwardTo: null }, // there before
        { domain: 'office.example', action: 'drop', forwardTo: null },
        { domain: 'partner.example', action: 'forward', forwardTo: '10.0.0.20:25' },
      ]);
    } finally {
      store.close();
    }
    // A second import of the same file keeps the first: the new servers get other names.
    const again = await cli(['import', 'iis', fixture('MetaBase.xml'), '--dry-run', '--data', dir]);
    expect(again.stdout).toMatch(/\[CHANGED\] Name: Default SMTP Virtual Server → Default SMTP Virtual Server \(IIS 2\)/);
    expect(again.stdout).toMatch(/\[CHANGED\] Name: Scanners → Scanners \(IIS\)/);
  }, 60_000);

  it('an empty RelayIpList with anonymous access is an open relay: refused without --yes, imported with it', async () => {
    const dir = await dataDir();
    const refused = await cli(['import', 'iis', fixture('open-relay.MetaBase.xml'), '--data', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Header only: This makes an open relay/);
    expect((await cli(['server', 'list', '--data', dir])).stdout).not.toContain('Scanners');
    const accepted = await cli(['import', 'iis', fixture('open-relay.MetaBase.xml'), '--yes', '--data', dir]);
    expect(accepted.code).toBe(0);
  }, 30_000);

  it.each([
    { file: 'truncated.MetaBase.xml', error: /MetaBase\.xml is not well-formed XML \(line \d+, column \d+\)/ },
    { file: 'short-blob.MetaBase.xml', error: /\/LM\/SMTPSVC\/1 RelayIpList \(Relay restrictions\): .*truncated/ },
    { file: 'domain-names.MetaBase.xml', error: /\/LM\/SMTPSVC\/2 RelayIpList .*domain-name entries.*iis-export\.ps1/ },
    { file: 'port-clash.MetaBase.xml', error: /all addresses port 2526 is already used by virtual server "Relay list absent"/ },
  ])('refuses $file with a precise message and changes nothing', async ({ file, error }) => {
    const dir = await dataDir();
    const before = (await cli(['config', 'export', '--data', dir])).stdout;
    const result = await cli(['import', 'iis', fixture(file), '--data', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(error);
    expect((await cli(['config', 'export', '--data', dir])).stdout).toBe(before);
  }, 30_000);

  it('reads the PowerShell export (ADSI lists decoded, domain entries included) through the AdminApi preview and apply', async () => {
    const t = await startTestApp({});
    apps.push(t);
    const api = createAdminHandlers(t.app);
    const content = fs.readFileSync(fixture('iis-export.json'), 'utf8');
    const preview = await api['import.iisPreview']({ content });
    expect(preview.servers).toEqual([{ name: 'Default SMTP Virtual Server (IIS)', listen: '(All Unassigned):25', risk: null }]);
    expect(preview.rows.find((r) => r.setting === 'Connection control (IPSecurity)')?.relaydesk).toBe('All except the list below: 10.9.9.9, domain spam.example');
    expect(await api['import.iisApply']({ content, confirmRisks: false })).toEqual({ created: ['Default SMTP Virtual Server (IIS)'] });
    const server = t.app.store.getServer('Default SMTP Virtual Server (IIS)');
    expect(server.relayRules).toEqual([{ kind: 'subnet', network: '192.168.1.0', prefix: 24 }, { kind: 'address', address: '127.0.0.1' }, { kind: 'domain', domain: 'printers.office.example' }]);
    expect(server.delivery.smartHost).toMatchObject({ host: 'smtp.isp.example', security: 'none' });
    expect(server.access).toMatchObject({ anonymous: true, basicAuth: true, cramMd5: false });
    await expect(api['import.iisPreview']({ content: '{"format":"relaydesk-iis-export","version":1,"servers":[]}' })).rejects.toThrow(/the export holds no SMTP virtual server/);
  });
});
