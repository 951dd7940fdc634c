// `relaydesk log`, `relaydesk retention` and `relaydesk import iis`: commands over the store that
// have modules of their own (log-command.ts, retention-command.ts, import-command.ts).
import { IMPORT_USAGE, importCommand } from './import-command';
import { LOG_USAGE, logCommand } from './log-command';
import { RETENTION_OPTIONS, RETENTION_USAGE, retentionCommand } from './retention-command';
import { type CommandGroup, UsageError } from './shared';

export const LOG_COMMANDS: CommandGroup = {
  names: ['log', 'retention', 'import'],
  usage: `${LOG_USAGE}\n${IMPORT_USAGE}\n${RETENTION_USAGE}`,
  options: {
    server: { type: 'string' }, client: { type: 'string' }, user: { type: 'string' }, verdict: { type: 'string' }, since: { type: 'string' },
    last: { type: 'string' }, follow: { type: 'boolean' }, format: { type: 'string' }, limit: { type: 'string' },
    'dry-run': { type: 'boolean' }, yes: { type: 'boolean' },
    ...Object.fromEntries(Object.keys(RETENTION_OPTIONS).map((option) => [option, { type: 'string' as const }])),
  },
  async run(command, context) {
    const store = context.admin().app.store;
    if (command === 'log') {
      if (context.sub !== undefined) throw new UsageError(`log takes options only ("${context.sub}")`);
      return logCommand(store, context.values, context.io);
    }
    if (command === 'retention') return retentionCommand(context.admin(), context.values, context.io);
    return importCommand(context.admin(), context.sub, context.rest[0], context.values, context.io);
  },
};
