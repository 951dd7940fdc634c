// `relaydesk config export|import|schema`: the whole configuration as one JSON document. Import
// takes a whole or a partial document (what it leaves out takes the defaults, or with --merge
// keeps its current value), validates the result as a whole and applies it atomically.
import fs from 'node:fs';
import { configImportJsonSchema } from '../contract/config';
import { AdminError } from '../contract/errors';
import { type CommandGroup, need, UsageError } from './shared';

export const CONFIG_COMMANDS: CommandGroup = {
  names: ['config'],
  usage: `  config export [--with-secrets]        the whole configuration as JSON on stdout
  config import FILE [--merge]          apply a whole or partial configuration atomically, or change nothing
                                        (--merge: entries are matched by name; what FILE leaves out stays)
  config schema                         the JSON Schema of what config import accepts`,
  options: { 'with-secrets': { type: 'boolean' }, merge: { type: 'boolean' } },
  async run(_command, context) {
    const { sub, rest, io, values } = context;
    switch (sub) {
      case 'export': {
        // Secrets never cross the AdminApi: --with-secrets reads them from the store itself.
        const admin = context.admin();
        const document = values['with-secrets'] ? admin.app.store.exportConfig({ withSecrets: true }) : await admin.call('config.export', {});
        io.out(JSON.stringify(document, null, 2));
        return 0;
      }
      case 'import': {
        const file = need(rest[0], 'a file to import');
        let document: unknown;
        try {
          document = JSON.parse(fs.readFileSync(file, 'utf8'));
        } catch (err) {
          throw new AdminError('invalid', `${file} is not readable JSON: ${(err as Error).message}`);
        }
        const { servers } = await context.admin().call('config.import', { document, merge: Boolean(values.merge) });
        io.out(`relaydesk: configuration imported from ${file}${values.merge ? ' (merged)' : ''}; virtual servers: ${servers.join(', ') || 'none'}`);
        return 0;
      }
      case 'schema':
        io.out(JSON.stringify(configImportJsonSchema(), null, 2));
        return 0;
      default:
        throw new UsageError(`unknown command "config ${sub ?? ''}"`);
    }
  },
};
