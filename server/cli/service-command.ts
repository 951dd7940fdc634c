// `relaydesk service install|uninstall`: run `relaydesk serve` as a system service that starts at
// boot and restarts on failure. Linux: a hardened systemd unit (no new privileges, a read-only
// system but for the data folder, CAP_NET_BIND_SERVICE for ports 25/465/587 without root).
// macOS: a launchd daemon. Windows: a service registered with WinSW (the Windows Service Wrapper),
// because the Service Control Manager cannot run a Node program directly. --print shows the file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AdminError } from '../contract/errors';
import { packageRoot } from '../paths';
import { SERVE_NODE_FLAGS } from '../serve-flags';
import { DEFAULT_CONSOLE_PORT } from '../web/console-server';
import { type CliContext, type CommandGroup, stringOption, UsageError } from './shared';

type Platform = 'linux' | 'darwin' | 'win32';

export const SERVICE_NAME = 'relaydesk';
const LAUNCHD_LABEL = 'com.relaydesk.serve';
/**
 * Where the service file goes. DESTDIR (as in `make install`) puts it under another root: for
 * packaging into an image, and for tests that must not touch this machine's /etc.
 */
const destdir = () => process.env.DESTDIR ?? '';
export const systemdUnitPath = () => path.join(destdir(), `/etc/systemd/system/${SERVICE_NAME}.service`);
const launchdPlistPath = () => path.join(destdir(), `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`);

export interface ServiceSpec {
  platform: Platform;
  /** Absolute: the Node binary and bin/relaydesk.js. */
  node: string;
  script: string;
  dataDir: string;
  user: string;
  console: string;
  /** More folders the service writes (drop, pickup, badmail folders outside the data folder). */
  writableFolders: string[];
}

/** The data folder of a service when --data is not given: the system's place, not a home folder. */
export function defaultServiceDataDir(platform: Platform): string {
  if (platform === 'win32') return path.win32.join(process.env.ProgramData ?? 'C:\\ProgramData', 'Relaydesk');
  if (platform === 'darwin') return '/Library/Application Support/Relaydesk';
  return '/var/lib/relaydesk';
}

function defaultUser(platform: Platform): string {
  if (platform === 'win32') return 'LocalSystem';
  if (platform === 'darwin') return process.env.SUDO_USER ?? os.userInfo().username;
  return SERVICE_NAME; // a system account of its own, created at install
}

const quoteSystemd = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const escapeXml = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function systemdUnit(spec: ServiceSpec): string {
  const writable = [spec.dataDir, ...spec.writableFolders].map(quoteSystemd).join(' ');
  return `# Written by \`relaydesk service install\`; remove it with \`relaydesk service uninstall\`.
[Unit]
Description=Relaydesk SMTP relay
Documentation=file://${path.join(packageRoot(), 'README.md')}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${spec.user}
ExecStart=${[spec.node, ...SERVE_NODE_FLAGS, spec.script, 'serve', '--data', spec.dataDir, '--console', spec.console].map(quoteSystemd).join(' ')}
Restart=on-failure
RestartSec=5
# SIGTERM: finish the messages in progress, then exit.
KillSignal=SIGTERM
TimeoutStopSec=60
UMask=0077
# Ports 25, 465 and 587 without root, and nothing more.
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=${writable}
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
`;
}

export function launchdPlist(spec: ServiceSpec): string {
  const args = [spec.node, ...SERVE_NODE_FLAGS, spec.script, 'serve', '--data', spec.dataDir, '--console', spec.console];
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by relaydesk service install; remove it with relaydesk service uninstall. -->
<plist version="1.0">
<dict>
  <key>Label</key><string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args.map((a) => `    <string>${escapeXml(a)}</string>`).join('\n')}
  </array>
  <key>UserName</key><string>${escapeXml(spec.user)}</string>
  <key>WorkingDirectory</key><string>${escapeXml(spec.dataDir)}</string>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
  <key>ExitTimeOut</key><integer>60</integer>
  <key>Umask</key><integer>63</integer>
  <key>StandardOutPath</key><string>${escapeXml(path.posix.join(spec.dataDir, 'relaydesk.log'))}</string>
  <key>StandardErrorPath</key><string>${escapeXml(path.posix.join(spec.dataDir, 'relaydesk.log'))}</string>
</dict>
</plist>
`;
}

export function winswXml(spec: ServiceSpec): string {
  const quote = (value: string) => `&quot;${escapeXml(value)}&quot;`;
  return `<!-- Written by relaydesk service install (WinSW 3); remove it with relaydesk service uninstall. -->
<service>
  <id>${SERVICE_NAME}</id>
  <name>Relaydesk SMTP relay</name>
  <description>Relaydesk: SMTP submission and relay for the office (relaydesk serve).</description>
  <executable>${escapeXml(spec.node)}</executable>
  <arguments>${SERVE_NODE_FLAGS.map(escapeXml).join(' ')} ${quote(spec.script)} serve --data ${quote(spec.dataDir)} --console ${escapeXml(spec.console)}</arguments>
  <startmode>Automatic</startmode>
  <delayedAutoStart>true</delayedAutoStart>
  <stoptimeout>60 sec</stoptimeout>
  <onfailure action="restart" delay="10 sec"/>
  <serviceaccount><username>${escapeXml(spec.user)}</username></serviceaccount>
  <logpath>${escapeXml(path.win32.join(spec.dataDir, 'logs'))}</logpath>
  <log mode="roll-by-size"><sizeThreshold>10240</sizeThreshold><keepFiles>8</keepFiles></log>
</service>
`;
}

function serviceFile(spec: ServiceSpec): { file: string; text: string } {
  if (spec.platform === 'linux') return { file: systemdUnitPath(), text: systemdUnit(spec) };
  if (spec.platform === 'darwin') return { file: launchdPlistPath(), text: launchdPlist(spec) };
  return { file: path.win32.join(spec.dataDir, `${SERVICE_NAME}-service.xml`), text: winswXml(spec) };
}

function run(command: string, args: string[], context: CliContext): void {
  context.io.out(`relaydesk: running ${[command, ...args].join(' ')}`);
  try {
    execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    throw new AdminError('unavailable', `${command} ${args.join(' ')} failed: ${(err as Error).message}`);
  }
}

function requireRoot(platform: Platform): void {
  if (platform !== 'win32' && typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new AdminError('invalid', 'installing a system service needs root: run it with sudo (or use --print to see the file)');
  }
}

/** Folders of the configured servers outside the data folder that the service must be able to write. */
function outsideFolders(context: CliContext, dataDir: string): string[] {
  if (!fs.existsSync(path.join(dataDir, 'relaydesk.db'))) return [];
  const servers = context.admin().app.store.listServers();
  const folders = servers.flatMap((s) => [s.delivery.dropFolder, s.delivery.pickupFolder, s.messages.badmailFolder]).filter((f): f is string => Boolean(f));
  return [...new Set(folders)].filter((f) => path.relative(dataDir, f).startsWith('..') || path.isAbsolute(path.relative(dataDir, f)));
}

function installOnLinux(spec: ServiceSpec, text: string, context: CliContext): void {
  let exists = true;
  try {
    execFileSync('id', ['-u', spec.user], { stdio: 'ignore' });
  } catch {
    exists = false;
  }
  if (!exists) {
    if (stringOption(context.values, 'user') !== undefined) throw new AdminError('not-found', `no user named "${spec.user}" on this machine`, 'user');
    run('useradd', ['--system', '--home-dir', spec.dataDir, '--no-create-home', '--shell', '/usr/sbin/nologin', spec.user], context);
  }
  fs.mkdirSync(spec.dataDir, { recursive: true, mode: 0o700 });
  run('chown', ['-R', `${spec.user}:`, spec.dataDir], context);
  fs.mkdirSync(path.dirname(systemdUnitPath()), { recursive: true });
  fs.writeFileSync(systemdUnitPath(), text, { mode: 0o644 });
  run('systemctl', ['daemon-reload'], context);
  run('systemctl', ['enable', '--now', `${SERVICE_NAME}.service`], context);
}

async function install(context: CliContext): Promise<number> {
  const platform = (stringOption(context.values, 'platform') ?? process.platform) as Platform;
  if (!['linux', 'darwin', 'win32'].includes(platform)) throw new UsageError('--platform takes linux, darwin or win32');
  const paths = platform === 'win32' ? path.win32 : path.posix;
  const dataDir = paths.resolve(stringOption(context.values, 'data') ?? defaultServiceDataDir(platform));
  const spec: ServiceSpec = {
    platform, dataDir,
    node: process.execPath,
    script: path.join(packageRoot(), 'bin', 'relaydesk.js'),
    user: stringOption(context.values, 'user') ?? defaultUser(platform),
    console: stringOption(context.values, 'console') ?? `127.0.0.1:${DEFAULT_CONSOLE_PORT}`,
    writableFolders: outsideFolders(context, dataDir),
  };
  const { file, text } = serviceFile(spec);
  if (context.values.print) {
    context.io.out(text.trimEnd());
    return 0;
  }
  if (platform !== process.platform) throw new UsageError(`--platform ${platform} only works with --print on this ${process.platform} machine`);
  requireRoot(platform);
  if (platform === 'linux') installOnLinux(spec, text, context);
  else if (platform === 'darwin') {
    fs.mkdirSync(spec.dataDir, { recursive: true, mode: 0o700 });
    run('chown', ['-R', spec.user, spec.dataDir], context);
    fs.writeFileSync(file, text, { mode: 0o644 });
    run('launchctl', ['bootstrap', 'system', file], context);
  } else {
    fs.mkdirSync(spec.dataDir, { recursive: true });
    fs.writeFileSync(file, text);
    const winsw = stringOption(context.values, 'winsw') ?? 'winsw';
    run(winsw, ['install', file], context);
    run(winsw, ['start', file], context);
  }
  context.io.out(`relaydesk: service installed (${file}); it runs \`relaydesk serve --data ${dataDir}\` as ${spec.user} at boot and now; console on http://${spec.console}/`);
  return 0;
}

async function uninstall(context: CliContext): Promise<number> {
  const platform = process.platform as Platform;
  const file = platform === 'linux' ? systemdUnitPath() : platform === 'darwin' ? launchdPlistPath()
    : path.win32.join(path.resolve(stringOption(context.values, 'data') ?? defaultServiceDataDir(platform)), `${SERVICE_NAME}-service.xml`);
  if (context.values.print) {
    context.io.out(`would stop and remove the service and delete ${file}; the data folder stays`);
    return 0;
  }
  requireRoot(platform);
  if (!fs.existsSync(file)) throw new AdminError('not-found', `no Relaydesk service is installed here (${file} does not exist)`);
  if (platform === 'linux') {
    run('systemctl', ['disable', '--now', `${SERVICE_NAME}.service`], context);
    fs.rmSync(file);
    run('systemctl', ['daemon-reload'], context);
  } else if (platform === 'darwin') {
    run('launchctl', ['bootout', `system/${LAUNCHD_LABEL}`], context);
    fs.rmSync(file);
  } else {
    const winsw = stringOption(context.values, 'winsw') ?? 'winsw';
    run(winsw, ['stop', file], context);
    run(winsw, ['uninstall', file], context);
    fs.rmSync(file);
  }
  context.io.out('relaydesk: service removed; the data folder and its configuration stay');
  return 0;
}

export const SERVICE_COMMANDS: CommandGroup = {
  names: ['service'],
  usage: `  service install [--data DIR] [--user NAME] [--console ADDR:PORT] [--print [--platform linux|darwin|win32]] [--winsw PATH]
                                        run serve at boot: systemd (Linux), launchd (macOS), WinSW (Windows)
  service uninstall [--print]           stop and remove the service (the data folder stays)`,
  options: { user: { type: 'string' }, print: { type: 'boolean' }, platform: { type: 'string' }, winsw: { type: 'string' }, console: { type: 'string' } },
  async run(_command, context) {
    if (context.sub === 'install') return install(context);
    if (context.sub === 'uninstall') return uninstall(context);
    throw new UsageError(`unknown command "service ${context.sub ?? ''}"`);
  },
};
