// `relaydesk access ...`: the Connection control and Relay restrictions lists of a virtual server
// (Properties → Access), with the console's validation and its open-relay and lock-out warnings.
import { describeAddressRule, listModeSchema, type AddressRule, type VirtualServerConfig } from '../contract/settings';
import { AdminError, parseOrThrow } from '../contract/errors';
import { confirmRisk } from './server-command';
import { type CliContext, type CommandGroup, need, UsageError } from './shared';

type ListName = 'connection' | 'relay';

function listName(value: string | undefined): ListName {
  if (value === 'connection' || value === 'relay') return value;
  throw new UsageError('say which list: connection (who may connect) or relay (who may relay)');
}

const RULES = { connection: 'connectionRules', relay: 'relayRules' } as const;
const MODE = { connection: 'connectionMode', relay: 'relayMode' } as const;
const TITLE = { connection: 'Connection control', relay: 'Relay restrictions' } as const;

function sameRule(a: AddressRule, b: AddressRule): boolean {
  return describeAddressRule(a).toLowerCase() === describeAddressRule(b).toLowerCase();
}

function summary(config: VirtualServerConfig, list: ListName): string {
  const mode = config.access[MODE[list]] === 'only-list' ? 'only the list may' : 'all except the list may';
  const entries = config[RULES[list]].map(describeAddressRule).join(', ') || '(empty)';
  return `${TITLE[list]} of ${config.name}: ${mode} ${list === 'connection' ? 'connect' : 'relay'}; list: ${entries}`;
}

async function change(context: CliContext, edit: (config: VirtualServerConfig, list: ListName) => Promise<VirtualServerConfig>): Promise<number> {
  const admin = context.admin();
  const current = await admin.call('servers.get', { name: need(context.rest[0], 'a virtual server name') });
  const list = listName(context.rest[1]);
  const next = await edit(current, list);
  await confirmRisk(current, next, Boolean(context.values.yes), context);
  const saved = await admin.call('servers.update', { name: current.name, patch: { access: next.access, [RULES[list]]: next[RULES[list]] } });
  context.io.out(`relaydesk: ${summary(saved, list)} (a running \`relaydesk serve\` applies it within a second)`);
  return 0;
}

export const ACCESS_COMMANDS: CommandGroup = {
  names: ['access'],
  usage: `  access list SERVER                    both lists and what they grant
  access add|remove SERVER connection|relay ENTRY [--yes]
                                        ENTRY: 192.0.2.7, 192.0.2.0/24, 2001:db8::/48, 192.0.2.0/255.255.255.0, *.example.com
  access mode SERVER connection|relay only-list|all-except [--yes]`,
  options: { yes: { type: 'boolean' } },
  async run(_command, context) {
    const admin = context.admin();
    switch (context.sub) {
      case 'list': {
        const config = await admin.call('servers.get', { name: need(context.rest[0], 'a virtual server name') });
        context.io.out(`${summary(config, 'connection')}\n${summary(config, 'relay')}\nSigned-in users may relay regardless of the list: ${config.access.relayForAuthenticated ? 'yes' : 'no'}`);
        return 0;
      }
      case 'add':
      case 'remove':
        return change(context, async (config, list) => {
          const entry = need(context.rest[2], 'an entry (192.0.2.7, 192.0.2.0/24, 2001:db8::/48 or *.example.com)');
          const rule = await admin.call('servers.validateRule', { text: entry });
          const rules = config[RULES[list]];
          if (context.sub === 'add') {
            if (rules.some((r) => sameRule(r, rule))) throw new AdminError('conflict', `${describeAddressRule(rule)} is already on the ${list} list of ${config.name}`, 'entry');
            return { ...config, [RULES[list]]: [...rules, rule] };
          }
          if (!rules.some((r) => sameRule(r, rule))) throw new AdminError('not-found', `${describeAddressRule(rule)} is not on the ${list} list of ${config.name} (see: relaydesk access list "${config.name}")`, 'entry');
          return { ...config, [RULES[list]]: rules.filter((r) => !sameRule(r, rule)) };
        });
      case 'mode':
        return change(context, async (config, list) => {
          const mode = parseOrThrow(listModeSchema, context.rest[2], 'mode');
          return { ...config, access: { ...config.access, [MODE[list]]: mode } };
        });
      default:
        throw new UsageError(`unknown command "access ${context.sub ?? ''}"`);
    }
  },
};
