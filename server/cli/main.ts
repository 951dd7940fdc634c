// The `relaydesk` command. Each command group (one module under server/cli/) has its own options
// and usage; each sub-command opens the AdminApi over the data folder, does one thing and says
// what it did in one line (or prints JSON/tables). Errors are one line on stderr and exit code 1
// (2 for usage errors). No secret is ever printed unless explicitly asked for.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir, packageRoot } from '../paths';
import { ACCESS_COMMANDS } from './access-command';
import { ADMIN_COMMANDS } from './admin-command';
import { CERT_COMMANDS } from './cert-command';
import { CONFIG_COMMANDS } from './config-command';
import { QUEUE_COMMANDS } from './queue-command';
import { ROUTE_COMMANDS } from './route-command';
import { SERVE_COMMAND } from './serve-command';
import { SERVER_COMMANDS } from './server-command';
import { SERVICE_COMMANDS } from './service-command';
import { SMARTHOST_COMMANDS } from './smarthost-command';
import { DOMAIN_COMMANDS, USER_COMMANDS } from './user-command';
import { LOG_COMMANDS } from './log-commands';
import { type CliAdmin, type CommandGroup, type Io, openCliAdmin, processIo, UsageError, type Values } from './shared';
import { DEFAULT_CONSOLE_PORT } from '../web/console-server';

const GROUPS: CommandGroup[] = [
  SERVE_COMMAND, SERVER_COMMANDS, ACCESS_COMMANDS, ADMIN_COMMANDS, USER_COMMANDS, DOMAIN_COMMANDS, CERT_COMMANDS, SMARTHOST_COMMANDS, ROUTE_COMMANDS,
  QUEUE_COMMANDS, LOG_COMMANDS, CONFIG_COMMANDS, SERVICE_COMMANDS,
];

const COMMON_OPTIONS = { data: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } } as const;

export const USAGE = `Usage: relaydesk <command> [options]

${GROUPS.map((g) => g.usage).join('\n')}

Every command takes --data DIR (default: ${defaultDataDir()}).`;

function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** `--console` takes an optional value: alone it means the default address. */
function withConsoleDefault(argv: string[]): string[] {
  return argv.map((arg, i) => (arg === '--console' && (argv[i + 1] === undefined || argv[i + 1]?.startsWith('--')) ? `--console=127.0.0.1:${DEFAULT_CONSOLE_PORT}` : arg));
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let admin: CliAdmin | null = null;
  try {
    // The command decides which options exist; find it first, past options like --data DIR.
    const command = parseArgs({ args: argv, allowPositionals: true, strict: false, options: COMMON_OPTIONS }).positionals[0];
    const group = GROUPS.find((g) => command !== undefined && g.names.includes(command));
    if (command !== undefined && !group && !argv.includes('--help') && !argv.includes('-h')) throw new UsageError(`unknown command "${command}"`);
    const { values, positionals } = parseArgs({ args: withConsoleDefault(argv), allowPositionals: true, options: { ...COMMON_OPTIONS, ...group?.options } });
    if (values.version) {
      io.out(packageVersion());
      return 0;
    }
    if (values.help || !group) {
      io.out(USAGE);
      return values.help ? 0 : 2;
    }
    const [name, sub, ...rest] = positionals;
    const dataDir = typeof values.data === 'string' ? values.data : defaultDataDir();
    return await group.run(name as string, {
      dataDir, sub, rest, values: values as Values, io,
      admin: () => (admin ??= openCliAdmin(dataDir)),
      secretFromStdin: async () => (await io.readStdin()).replace(/\r?\n$/, ''),
    });
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`relaydesk: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`relaydesk: ${(err as Error).message}`);
    return 1;
  } finally {
    // A command that queued mail (a report to the sender) indexes it and unlists its segment
    // before the store closes (a running serve appends to its own).
    await (admin as CliAdmin | null)?.app.spool.drain();
    (admin as CliAdmin | null)?.app.spool.letGoOfSegment();
    (admin as CliAdmin | null)?.app.store.close();
  }
}
