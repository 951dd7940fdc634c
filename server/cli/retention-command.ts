// `relaydesk retention`: the Retention and disk settings of the Queues page from the command line
// (live log, queue history, kept copies of delivered mail, the free-space floor). Without options
// it prints them; with options the AdminApi validates and stores the change (a running serve follows).
import type { LogSettings } from '../contract/admin-api';
import type { CliAdmin } from './shared';

export const RETENTION_OPTIONS = {
  'log-days': 'retentionDays',
  'max-events': 'maxEvents',
  'history-days': 'queueHistoryDays',
  'keep-delivered-days': 'keepDeliveredDays',
  'min-free-mib': 'minFreeMiB',
  'min-free-percent': 'minFreePercent',
} as const satisfies Record<string, keyof LogSettings>;

export const RETENTION_USAGE = `  retention [--log-days N] [--max-events N] [--history-days N] [--keep-delivered-days N]
            [--min-free-mib N] [--min-free-percent N]
                                        show or change retention and the free-space floor`;

export async function retentionCommand(admin: CliAdmin, values: Record<string, unknown>, io: { out(line: string): void }): Promise<number> {
  const change: Partial<LogSettings> = {};
  for (const [option, key] of Object.entries(RETENTION_OPTIONS)) {
    const value = values[option];
    if (typeof value === 'string') change[key] = Number(value);
  }
  const settings = Object.keys(change).length > 0 ? await admin.call('log.setSettings', change) : await admin.call('log.getSettings', {});
  io.out([
    `Live log:              ${settings.retentionDays} days, at most ${settings.maxEvents} events`,
    `Finished messages:     records kept ${settings.queueHistoryDays} days`,
    `Delivered bodies:      ${settings.keepDeliveredDays > 0 ? `a copy kept ${settings.keepDeliveredDays} days` : 'removed from the spool at once'}`,
    `Free-space floor:      ${settings.minFreeMiB === 0 || settings.minFreePercent === 0 ? 'off' : `the smaller of ${settings.minFreeMiB} MiB and ${settings.minFreePercent} % of the disk (below it new mail gets 452 4.3.1)`}`,
  ].join('\n'));
  return 0;
}
