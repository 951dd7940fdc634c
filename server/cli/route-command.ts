// `relaydesk route ...`: a virtual server's routes by sender, user, device and recipient domain
// (Properties → Delivery → Routes), in order; each route's transport is set with the smarthost
// commands and --route NAME. Through the AdminApi, validated as the console validates them.
import type { DeliveryRoute, SmartHost, VirtualServerConfig } from '../contract/settings';
import { AdminError } from '../contract/errors';
import { type CliContext, type CommandGroup, integerOption, listOption, need, stringOption, UsageError } from './shared';

function transportOf(host: SmartHost | null): string {
  if (!host) return 'directly by MX';
  if (host.transport === 'graph') return `Microsoft Graph as ${host.user ?? '?'}`;
  return `smart host ${host.host}:${host.port}${host.authentication === 'none' ? '' : ` (${host.authentication === 'oauth2' ? 'OAuth2' : 'password'} as ${host.user ?? '?'})`}`;
}

function describeRoute(route: DeliveryRoute, index: number): string {
  const m = route.match;
  const match = [
    m.senders.length ? `senders ${m.senders.join(', ')}` : '', m.users.length ? `users ${m.users.join(', ')}` : '',
    m.devices.length ? `devices ${m.devices.join(', ')}` : '', m.recipientDomains.length ? `recipient domains ${m.recipientDomains.join(', ')}` : '',
  ].filter(Boolean).join('; ') || 'all mail';
  return [
    `${index + 1}. ${route.name}: ${match} → ${transportOf(route.smartHost)}`,
    ...(route.failover ? [`     failover to ${route.failover.route} on ${route.failover.on.join(', ')}`] : []),
    ...(route.sendAsMailbox ? ['     sends as the route\'s mailbox (From rewritten, the original From as Reply-To)'] : []),
  ].join('\n');
}

async function change(context: CliContext, edit: (routes: DeliveryRoute[], config: VirtualServerConfig) => DeliveryRoute[], said: (config: VirtualServerConfig) => string): Promise<number> {
  const admin = context.admin();
  const config = await admin.call('servers.get', { name: need(context.rest[0], 'a virtual server name') });
  const routes = edit([...config.delivery.routes], config);
  const saved = await admin.call('servers.update', { name: config.name, patch: { delivery: { routes } } });
  context.io.out(`relaydesk: ${said(saved)} (a running \`relaydesk serve\` applies it within a second)`);
  return 0;
}

function indexOf(routes: readonly DeliveryRoute[], name: string, server: string): number {
  const i = routes.findIndex((r) => r.name.toLowerCase() === name.trim().toLowerCase());
  if (i < 0) throw new AdminError('not-found', `virtual server "${server}" has no route named "${name}" (see: relaydesk route list "${server}")`, 'route');
  return i;
}

function matchOf(context: CliContext): DeliveryRoute['match'] {
  return { senders: listOption(context.values, 'sender'), users: listOption(context.values, 'user'), devices: listOption(context.values, 'device'), recipientDomains: listOption(context.values, 'recipient-domain') };
}

export const ROUTE_COMMANDS: CommandGroup = {
  names: ['route'],
  usage: `  route list SERVER                     the routes in order, what each matches and where it sends
  route add SERVER NAME [--sender ADDR|@DOMAIN]... [--user NAME]... [--device NAME]... [--recipient-domain DOMAIN]... [--position N]
                                        a route (directly by MX until: relaydesk smarthost graph|set|oauth SERVER --route NAME …)
  route match SERVER NAME [--sender …]... [--user …]... [--device …]... [--recipient-domain …]...   what it matches, anew
  route failover SERVER NAME (--to ROUTE|default --on CODE[,CODE…] | --off)   e.g. --to Graph --on 5.7.139,4.7.500
  route send-as SERVER NAME on|off      send as the route's mailbox (From rewritten, the original as Reply-To)
  route move SERVER NAME --position N | route remove SERVER NAME`,
  options: {
    sender: { type: 'string', multiple: true }, user: { type: 'string', multiple: true }, device: { type: 'string', multiple: true },
    'recipient-domain': { type: 'string', multiple: true }, position: { type: 'string' }, to: { type: 'string' }, on: { type: 'string' }, off: { type: 'boolean' },
  },
  async run(_command, context) {
    const { sub, rest } = context;
    const name = () => need(rest[1], 'a route name');
    switch (sub) {
      case 'list': {
        const config = await context.admin().call('servers.get', { name: need(rest[0], 'a virtual server name') });
        const lines = config.delivery.routes.map(describeRoute);
        lines.push(`${config.delivery.routes.length + 1}. default: everything else → ${transportOf(config.delivery.smartHost)}`);
        context.io.out(lines.join('\n'));
        return 0;
      }
      case 'add':
        return change(context, (routes, config) => {
          const position = integerOption(context.values, 'position', 1, routes.length + 1) ?? routes.length + 1;
          if (routes.some((r) => r.name.toLowerCase() === name().toLowerCase())) throw new AdminError('conflict', `virtual server "${config.name}" already has a route named "${name()}"`, 'route');
          routes.splice(position - 1, 0, { name: name(), match: matchOf(context), smartHost: null, failover: null, sendAsMailbox: false });
          return routes;
        }, (config) => `route ${name()} added to ${config.name} at position ${config.delivery.routes.findIndex((r) => r.name === name()) + 1}; it sends directly by MX until you give it a transport: relaydesk smarthost graph "${config.name}" --route "${name()}" …`);
      case 'match':
        return change(context, (routes, config) => {
          const i = indexOf(routes, name(), config.name);
          routes[i] = { ...(routes[i] as DeliveryRoute), match: matchOf(context) };
          return routes;
        }, (config) => describeRoute(config.delivery.routes[indexOf(config.delivery.routes, name(), config.name)] as DeliveryRoute, indexOf(config.delivery.routes, name(), config.name)));
      case 'failover':
        return change(context, (routes, config) => {
          const i = indexOf(routes, name(), config.name);
          const to = stringOption(context.values, 'to');
          const on = (stringOption(context.values, 'on') ?? '').split(',').map((c) => c.trim()).filter(Boolean);
          if (!context.values.off && (!to || on.length === 0)) throw new UsageError('give --to ROUTE (or default) and --on CODES (e.g. 5.7.139,4.7.500), or --off');
          routes[i] = { ...(routes[i] as DeliveryRoute), failover: context.values.off ? null : { route: to as string, on } };
          return routes;
        }, (config) => describeRoute(config.delivery.routes[indexOf(config.delivery.routes, name(), config.name)] as DeliveryRoute, indexOf(config.delivery.routes, name(), config.name)));
      case 'send-as': {
        const value = rest[2];
        if (value !== 'on' && value !== 'off') throw new UsageError('route send-as SERVER NAME on|off');
        return change(context, (routes, config) => {
          const i = indexOf(routes, name(), config.name);
          routes[i] = { ...(routes[i] as DeliveryRoute), sendAsMailbox: value === 'on' };
          return routes;
        }, (config) => `route ${name()} of ${config.name} ${value === 'on' ? 'sends as its mailbox' : 'keeps the sender\'s From'}`);
      }
      case 'move':
        return change(context, (routes, config) => {
          const i = indexOf(routes, name(), config.name);
          const position = integerOption(context.values, 'position', 1, routes.length);
          if (position === undefined) throw new UsageError('give --position N (1 is tried first)');
          const [moved] = routes.splice(i, 1);
          routes.splice(position - 1, 0, moved as DeliveryRoute);
          return routes;
        }, (config) => `routes of ${config.name}: ${config.delivery.routes.map((r) => r.name).join(', ')}, then default`);
      case 'remove':
        return change(context, (routes, config) => {
          const i = indexOf(routes, name(), config.name);
          routes.splice(i, 1);
          return routes;
        }, (config) => `route ${name()} removed from ${config.name}`);
      default:
        throw new UsageError(`unknown command "route ${sub ?? ''}"`);
    }
  },
};
