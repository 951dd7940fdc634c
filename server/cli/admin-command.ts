// `relaydesk admin ...`: the console's password, and bearer tokens for /metrics and /healthz.
import { setAdminPassword } from '../web/console-server';
import { createApiToken, listApiTokens, revokeApiToken } from '../web/api-tokens';
import { type CommandGroup, need, UsageError } from './shared';

export const ADMIN_COMMANDS: CommandGroup = {
  names: ['admin'],
  usage: `  admin set-password --password-stdin   the password of the web console
  admin token create NAME               a bearer token for /metrics and /healthz (shown once)
  admin token list | admin token revoke NAME`,
  options: { 'password-stdin': { type: 'boolean' } },
  async run(_command, context) {
    const { sub, rest, io } = context;
    const store = context.admin().app.store;
    if (sub === 'set-password') {
      if (!context.values['password-stdin']) throw new UsageError('admin set-password reads the password from standard input: add --password-stdin');
      await setAdminPassword(store, await context.secretFromStdin());
      io.out('relaydesk: console password set');
      return 0;
    }
    if (sub === 'token') {
      const [action, name] = rest;
      if (action === 'create') {
        const token = createApiToken(store, need(name, 'a token name'), new Date());
        io.out(token);
        io.err(`relaydesk: token "${name}" created; it is shown only now. Use it as: Authorization: Bearer <token> (Prometheus: authorization: { credentials: <token> })`);
        return 0;
      }
      if (action === 'list') {
        const tokens = listApiTokens(store);
        if (tokens.length === 0) io.out('No tokens. Create one: relaydesk admin token create prometheus');
        for (const t of tokens) io.out(`${t.name}\tcreated ${t.createdAt}`);
        return 0;
      }
      if (action === 'revoke') {
        revokeApiToken(store, need(name, 'a token name'));
        io.out(`relaydesk: token "${name}" revoked`);
        return 0;
      }
      throw new UsageError('admin token takes create NAME, list or revoke NAME');
    }
    throw new UsageError(`unknown command "admin ${sub ?? ''}"`);
  },
};
