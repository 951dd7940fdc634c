// The log's exports as a test reads them: W3C records split into fields, CSV rows.
import type { createAdminHandlers } from '../../server/admin';
import { W3C_FIELDS } from '../../server/log/export';

type Api = ReturnType<typeof createAdminHandlers>;
type ExportFilter = Parameters<Api['log.export']>[0]['filter'];

export const W3C_FIELD_NAMES = W3C_FIELDS.split(' ');

/** The W3C export's records (directives left out), each split into its space-separated fields. */
export async function w3cRecords(api: Api, filter: ExportFilter): Promise<string[][]> {
  return (await api['log.export']({ format: 'w3c', filter })).trim().split('\r\n').filter((l) => !l.startsWith('#')).map((l) => l.split(' '));
}

/** One named field of a W3C record. */
export function w3cField(record: readonly string[] | undefined, name: string): string | undefined {
  return record?.[W3C_FIELD_NAMES.indexOf(name)];
}

/** The CSV export's lines, header first. */
export async function csvLines(api: Api, filter: ExportFilter): Promise<string[]> {
  return (await api['log.export']({ format: 'csv', filter })).trim().split('\r\n');
}
