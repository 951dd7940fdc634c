// `relaydesk import iis FILE [--dry-run] [--yes]`: the IIS 6 SMTP settings of MetaBase.xml (or of
// the JSON written by server/import/iis-export.ps1) as Relaydesk virtual servers. Prints what is
// imported as is, with a change, or not at all; --dry-run stops there. Applied atomically.
import fs from 'node:fs';
import { AdminError } from '../contract/errors';
import type { PreviewRow } from '../import/iis-mapping';
import type { CliAdmin } from './shared';

export const IMPORT_USAGE = `  import iis FILE [--dry-run] [--yes]     IIS 6 SMTP virtual servers from MetaBase.xml or iis-export.ps1's JSON`;

const LABEL: Record<PreviewRow['status'], string> = { 'as-is': 'as is', changed: 'CHANGED', 'not-imported': 'NOT IMPORTED' };

export async function importCommand(admin: CliAdmin, kind: string | undefined, file: string | undefined, values: Record<string, unknown>, io: { out(line: string): void; err(line: string): void }): Promise<number> {
  if (kind !== 'iis') throw new AdminError('invalid', 'usage: relaydesk import iis FILE [--dry-run] [--yes]', 'command');
  if (!file) throw new AdminError('invalid', 'give the MetaBase.xml (or the JSON of iis-export.ps1) to import', 'file');
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new AdminError('invalid', `cannot read ${file}: ${(err as Error).message}`, 'file');
  }
  const plan = await admin.call('import.iisPreview', { content });
  for (const server of plan.servers) {
    io.out(`\n${server.name} (${server.listen.replace('(All Unassigned)', 'all addresses')})`);
    for (const row of plan.rows.filter((r) => r.server === server.name)) {
      io.out(`  [${LABEL[row.status]}] ${row.setting}: ${row.iis} → ${row.relaydesk}${row.note ? `\n      ${row.note}` : ''}`);
    }
    if (server.risk) io.err(`  warning: ${server.risk.title}. ${server.risk.why}`);
  }
  if (plan.domains.length) io.out(`\nAccepted domains: ${plan.domains.map((d) => `${d.domain} (${d.action === 'drop' ? 'drop folder' : `forward to ${d.forwardTo}`})`).join(', ')}`);
  const counts = (status: PreviewRow['status']) => plan.rows.filter((r) => r.status === status).length;
  io.out(`\n${plan.servers.length} virtual server(s): ${counts('as-is')} settings as is, ${counts('changed')} changed, ${counts('not-imported')} not imported.`);
  if (values['dry-run'] === true) {
    io.out('relaydesk: dry run, nothing was changed');
    return 0;
  }
  const { created } = await admin.call('import.iisApply', { content, confirmRisks: values.yes === true });
  io.out(`relaydesk: imported ${created.map((n) => `"${n}"`).join(', ')} (stopped: start each with relaydesk server start NAME once IIS no longer listens on its port)`);
  return 0;
}
