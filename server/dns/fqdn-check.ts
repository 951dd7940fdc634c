// "Check DNS" of the General tab: does the server's FQDN resolve, and to this machine?
import { promises as dns } from 'node:dns';
import os from 'node:os';
import type { FqdnCheck } from '../contract/admin-api';

export async function checkFqdn(fqdn: string): Promise<FqdnCheck> {
  const localAddresses = Object.values(os.networkInterfaces()).flat().filter((i): i is os.NetworkInterfaceInfo => Boolean(i)).map((i) => i.address.replace(/%.*$/, ''));
  let addresses: string[] = [];
  try {
    addresses = (await dns.lookup(fqdn, { all: true })).map((a) => a.address);
  } catch (err) {
    return { fqdn, addresses, localAddresses, pointsHere: false, message: `${fqdn} does not resolve (${(err as { code?: string }).code ?? (err as Error).message}); clients and receiving servers will not find this machine by that name.` };
  }
  const pointsHere = addresses.some((a) => localAddresses.includes(a));
  const resolved = pointsHere ? `${fqdn} resolves to ${addresses.join(', ')}, an address of this machine.` : `${fqdn} resolves to ${addresses.join(', ')}, which is not an address of this machine.`;
  // A machine's own short name resolves through its hosts file, which tells nothing about DNS.
  const notes = [
    ...(fqdn.includes('.') ? [] : [`${fqdn} is not a fully qualified name (it has no domain): receiving mail servers refuse it in EHLO when this server delivers directly. Set a name such as mail.example.com on Properties → General.`]),
    ...(addresses.length > 0 && addresses.every(isLoopback) ? ['It resolves to loopback only: other machines cannot reach this server by that name.'] : []),
  ];
  return { fqdn, addresses, localAddresses, pointsHere, message: [resolved, ...notes].join(' ') };
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}
