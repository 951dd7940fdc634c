// `relaydesk device add|list|remove`: the Trusted devices list of a virtual server from the command
// line (scanners and applications that cannot sign in), with the same validation as the console.
// `relaydesk user limit`: a user's sending limits. Both go through the AdminApi; a running serve follows.
import { describeAddressRule, parseAddressRuleText, type TrustedDeviceInput } from '../contract/settings';
import { AdminError } from '../contract/errors';
import type { CliAdmin } from './shared';

export const DEVICE_USAGE = `  device add SERVER NAME --address ADDR|NET/PREFIX [--sender ADDR|@DOMAIN]... [--recipient-domain DOMAIN]...
            [--per-hour N] [--no-tls]        a device that may send without signing in
  device list SERVER | device remove SERVER NAME
  user limit NAME [--per-hour N|off] [--recipients-per-day N|off]   sending limits of a user`;

type Values = Record<string, unknown>;
type Io = { out(line: string): void };

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

export async function deviceCommand(admin: CliAdmin, sub: string | undefined, rest: string[], values: Values, io: Io): Promise<number> {
  const serverName = rest[0];
  if (!serverName) throw new AdminError('invalid', 'missing the virtual server name', 'server');
  const server = await admin.call('servers.get', { name: serverName });
  const devices = server.access.trustedDevices;
  if (sub === 'list') {
    if (devices.length === 0) io.out(`No trusted devices on ${server.name}. Add one: relaydesk device add "${server.name}" "Reception printer" --address 192.0.2.20 --sender scanner@example.com`);
    for (const d of devices) {
      io.out([
        `${d.name}\t${describeAddressRule(d.match)}`,
        `senders: ${d.senders.join(', ') || 'any'}`,
        `recipient domains: ${d.recipientDomains.join(', ') || 'any'}`,
        `per hour: ${d.perHour ?? 'no limit'}`,
        d.allowWithoutTls ? 'may send WITHOUT TLS' : 'TLS required',
      ].join('\t'));
    }
    return 0;
  }
  const name = rest[1];
  if (!name) throw new AdminError('invalid', 'missing the device name', 'name');
  if (sub === 'remove') {
    const remaining = devices.filter((d) => d.name.toLowerCase() !== name.toLowerCase());
    if (remaining.length === devices.length) throw new AdminError('not-found', `no trusted device "${name}" on ${server.name}`, 'name');
    await admin.call('servers.update', { name: server.name, patch: { access: { trustedDevices: remaining } } });
    io.out(`relaydesk: trusted device "${name}" removed from ${server.name}`);
    return 0;
  }
  if (sub !== 'add') throw new AdminError('invalid', `unknown command "device ${sub ?? ''}"`, 'command');
  if (typeof values.address !== 'string') throw new AdminError('invalid', 'give the device\'s address: --address 192.0.2.20 or --address 192.0.2.0/24', 'address');
  const perHour = typeof values['per-hour'] === 'string' ? Number(values['per-hour']) : null;
  const device: TrustedDeviceInput = {
    name, match: parseAddressRuleText(values.address), senders: strings(values.sender), recipientDomains: strings(values['recipient-domain']),
    perHour, allowWithoutTls: values['no-tls'] === true,
  };
  const updated = await admin.call('servers.update', { name: server.name, patch: { access: { trustedDevices: [...devices, device] } } });
  const added = updated.access.trustedDevices.at(-1);
  io.out(`relaydesk: trusted device "${name}" (${added ? describeAddressRule(added.match) : values.address}) may send through ${server.name} without signing in`
    + `${device.senders?.length ? `, only as ${device.senders.join(', ')}` : ', as ANY sender (pin it with --sender)'}`);
  if (device.allowWithoutTls) io.out('relaydesk: warning: this device may send without TLS: its mail (and any password it sends) crosses the network in clear');
  return 0;
}

export async function userLimitCommand(admin: CliAdmin, name: string | undefined, values: Values, io: Io): Promise<number> {
  if (!name) throw new AdminError('invalid', 'missing the user name', 'name');
  const limit = (value: unknown): number | null | undefined => (typeof value !== 'string' ? undefined : value === 'off' ? null : Number(value));
  const perHour = limit(values['per-hour']);
  const recipientsPerDay = limit(values['recipients-per-day']);
  const user = await admin.call('users.update', { name, ...(perHour === undefined ? {} : { perHour }), ...(recipientsPerDay === undefined ? {} : { recipientsPerDay }) });
  io.out(`relaydesk: ${name}: ${user?.perHour ?? 'no limit of'} messages per hour, ${user?.recipientsPerDay ?? 'no limit of'} recipients per day`);
  return 0;
}
