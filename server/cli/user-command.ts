// `relaydesk user ...` and `relaydesk domain ...`: users who sign in and the accepted domains,
// through the AdminApi. Passwords come from standard input only, never the command line.
import { type CommandGroup, listOption, need, stringOption, UsageError } from './shared';
import { deviceCommand, userLimitCommand, DEVICE_USAGE } from './device-command';

export const USER_COMMANDS: CommandGroup = {
  names: ['user', 'device'],
  usage: `  user add NAME --password-stdin [--sender ADDR]... [--cram-md5]
  user passwd NAME --password-stdin
  user list | user disable NAME | user enable NAME | user remove NAME
${DEVICE_USAGE}`,
  options: {
    'password-stdin': { type: 'boolean' }, sender: { type: 'string', multiple: true }, 'cram-md5': { type: 'boolean' },
    address: { type: 'string' }, 'recipient-domain': { type: 'string', multiple: true }, 'per-hour': { type: 'string' },
    'recipients-per-day': { type: 'string' }, 'no-tls': { type: 'boolean' },
  },
  async run(command, context) {
    const { sub, rest, io, values } = context;
    const admin = context.admin();
    if (command === 'device') return deviceCommand(admin, sub, rest, values, io);
    const name = () => need(rest[0], 'a user name');
    switch (sub) {
      case 'add':
      case 'passwd': {
        const user = name();
        if (!values['password-stdin']) throw new UsageError(`user ${sub} reads the password from standard input: add --password-stdin (the password never goes on the command line)`);
        const password = await context.secretFromStdin();
        if (sub === 'add') {
          const cramMd5 = Boolean(values['cram-md5']);
          await admin.call('users.add', { name: user, password, senders: listOption(values, 'sender'), cramMd5 });
          io.out(`relaydesk: user ${user} added${cramMd5 ? ' (CRAM-MD5 on: its HMAC-MD5 contexts are stored; they do not reveal the password, but anyone holding them can sign in with CRAM-MD5)' : ''}`);
        } else {
          await admin.call('users.update', { name: user, password });
          io.out(`relaydesk: password of ${user} changed`);
        }
        return 0;
      }
      case 'list': {
        const users = await admin.call('users.list', {});
        if (users.length === 0) io.out('No users. Add one: printf "%s" "$PASSWORD" | relaydesk user add NAME --password-stdin');
        for (const u of users) io.out(`${u.name}\t${u.enabled ? 'enabled' : 'disabled'}\t${u.cramMd5 ? 'cram-md5' : '-'}\t${u.senders.join(',') || '-'}`);
        return 0;
      }
      case 'enable':
      case 'disable':
        await admin.call('users.update', { name: name(), enabled: sub === 'enable' });
        io.out(`relaydesk: user ${rest[0]} ${sub}d`);
        return 0;
      case 'remove':
        await admin.call('users.remove', { name: name() });
        io.out(`relaydesk: user ${rest[0]} removed`);
        return 0;
      case 'limit':
        return userLimitCommand(admin, rest[0], values, io);
      default:
        throw new UsageError(`unknown command "user ${sub ?? ''}"`);
    }
  },
};

export const DOMAIN_COMMANDS: CommandGroup = {
  names: ['domain'],
  usage: '  domain add DOMAIN [--forward HOST:PORT] | domain list | domain remove DOMAIN',
  options: { forward: { type: 'string' } },
  async run(_command, context) {
    const { sub, rest, io } = context;
    const admin = context.admin();
    switch (sub) {
      case 'add': {
        const forward = stringOption(context.values, 'forward') ?? null;
        const added = await admin.call('domains.add', { domain: need(rest[0], 'a domain'), action: forward ? 'forward' : 'drop', forwardTo: forward });
        io.out(`relaydesk: ${added.domain} accepted (${added.action === 'drop' ? 'drop folder' : `forward to ${added.forwardTo}`})`);
        return 0;
      }
      case 'list':
        for (const d of await admin.call('domains.list', {})) io.out(`${d.domain}\t${d.action}${d.forwardTo ? `\t${d.forwardTo}` : ''}`);
        return 0;
      case 'remove':
        await admin.call('domains.remove', { domain: need(rest[0], 'a domain') });
        io.out(`relaydesk: ${rest[0]} removed from accepted domains`);
        return 0;
      default:
        throw new UsageError(`unknown command "domain ${sub ?? ''}"`);
    }
  },
};
