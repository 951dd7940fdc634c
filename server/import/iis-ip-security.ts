// IIS 6 "IP security" lists: the binary value of the metabase properties IPSecurity (Connection
// control) and RelayIpList (Relay restrictions), data type IPSECLIST, written in MetaBase.xml as
// hex. Decoded here into Relaydesk's list mode and entries, or refused with the exact reason:
// this code never guesses.
//
// Layout (little-endian DWORDs), as IIS writes it. Sources: the IIS 6.0 metabase reference for
// RelayIpList / IPSecurity (type IPSECLIST); a relay list made in the IIS Manager with 127.0.0.1
// granted, as published in SaltStack's win_smtp_server module (salt/modules/win_smtp_server.py,
// set_relay_ip_list); and the widely used WMI scripts that build the same value byte by byte
// (IIsSmtpServerSetting.RelayIpList = 24,0,0,128, 32,0,0,128, 60,0,0,128, 68,0,0,128, 1,0,0,0,
// 76,0,0,0, …), whose fields line up with the ADDRESS_CHECK structures of IIS's address checker:
//
//   header (24 bytes)
//     +0  deny address list     self-relative offset (bit 31 set) → ADDRESS_HEADER
//     +4  grant address list    self-relative offset → ADDRESS_HEADER
//     +8  deny name list        self-relative offset → NAME_HEADER
//     +12 grant name list       self-relative offset → NAME_HEADER
//     +16 flags                 1 = check that a reverse name resolves back (DNS-to-IP check)
//     +20 size of the reference area (where the variable data starts, 76 for one family)
//   ADDRESS_HEADER: cEntries, cAddresses, then cEntries × ADDRESS_LIST_ENTRY (5 DWORDs):
//     family (2 = AF_INET), cItems, cFullBytes, LastByte, self-relative offset of the items;
//     items are 4-byte values: first the subnet mask shared by the entry, then the addresses
//     (so cItems = addresses + 1, and the header's cAddresses is the sum of the addresses).
//   NAME_HEADER: cEntries, cNames, then entries of domain names.
//
// Meaning: a grant list means "Only the list below" (deny by default); a deny list means "All
// except the list below". IIS writes one or the other. Domain-name entries are refused here (their
// layout is not documented anywhere we could check): export those servers with the PowerShell
// script, which reads the lists decoded through ADSI.
import type { AddressRuleInput, ListMode } from '../contract/settings';

export class IpSecurityError extends Error {}

export interface IpSecurityList {
  mode: ListMode;
  rules: AddressRuleInput[];
}

const SELF_RELATIVE = 0x80000000;
const AF_INET = 2;
const HEADER_BYTES = 24;

/** Decode the hex of an IPSECLIST value. */
export function decodeIpSecurity(hex: string, what: string): IpSecurityList {
  const text = hex.replace(/\s+/g, '');
  if (text.length === 0) return { mode: 'all-except', rules: [] };
  if (!/^([0-9a-f]{2})+$/i.test(text)) throw new IpSecurityError(`${what}: not hexadecimal bytes (an odd number of digits, or other characters)`);
  const bytes = Buffer.from(text, 'hex');
  if (bytes.length < HEADER_BYTES) throw new IpSecurityError(`${what}: ${bytes.length} bytes, shorter than the 24-byte header of an IP security list`);
  const dword = (offset: number, field: string): number => {
    if (offset + 4 > bytes.length) throw new IpSecurityError(`${what}: ${field} at byte ${offset} lies beyond the end of the value (${bytes.length} bytes): the value is truncated`);
    return bytes.readUInt32LE(offset);
  };
  /** A self-relative offset to `need` bytes inside the value. */
  const pointer = (offset: number, field: string, need: number): number => {
    const raw = dword(offset, field);
    if ((raw & SELF_RELATIVE) === 0) throw new IpSecurityError(`${what}: ${field} (0x${raw.toString(16)}) is not a self-relative offset`);
    const target = (raw & ~SELF_RELATIVE) >>> 0;
    if (target < HEADER_BYTES || target + need > bytes.length) throw new IpSecurityError(`${what}: ${field} points to byte ${target}, but the value has ${bytes.length} bytes: the value is truncated or damaged`);
    return target;
  };
  const [denyAddr, grantAddr, denyName, grantName] = [pointer(0, 'the deny list offset', 8), pointer(4, 'the grant list offset', 8), pointer(8, 'the deny name list offset', 8), pointer(12, 'the grant name list offset', 8)];
  const flags = dword(16, 'the flags');
  if ((flags & ~1) !== 0) throw new IpSecurityError(`${what}: unknown flags 0x${flags.toString(16)}`);
  const referenceSize = dword(20, 'the reference size');
  if (referenceSize < HEADER_BYTES || referenceSize > bytes.length) throw new IpSecurityError(`${what}: the reference area size ${referenceSize} does not fit the value (${bytes.length} bytes)`);

  const addresses = (at: number, list: string): { present: boolean; rules: AddressRuleInput[] } => {
    const entries = dword(at, `${list} entry count`);
    const total = dword(at + 4, `${list} address count`);
    if (entries > 64) throw new IpSecurityError(`${what}: the ${list} claims ${entries} entries`);
    const rules: AddressRuleInput[] = [];
    for (let i = 0; i < entries; i++) {
      const base = at + 8 + i * 20;
      const family = dword(base, `${list} entry ${i + 1} family`);
      if (family !== AF_INET) throw new IpSecurityError(`${what}: the ${list} entry ${i + 1} has address family ${family}; IIS 6 SMTP lists hold IPv4 (family 2) only`);
      const items = dword(base + 4, `${list} entry ${i + 1} item count`);
      const fullBytes = dword(base + 8, `${list} entry ${i + 1} mask bytes`);
      const lastByte = dword(base + 12, `${list} entry ${i + 1} mask last byte`);
      const data = pointer(base + 16, `${list} entry ${i + 1} data offset`, 4);
      if (items < 1) throw new IpSecurityError(`${what}: the ${list} entry ${i + 1} holds no subnet mask`);
      if (data + items * 4 > bytes.length) throw new IpSecurityError(`${what}: the ${list} entry ${i + 1} needs ${items * 4} bytes at byte ${data}, but the value has ${bytes.length}: the value is truncated`);
      const mask = [...bytes.subarray(data, data + 4)];
      const prefix = maskPrefix(mask);
      if (prefix === null) throw new IpSecurityError(`${what}: the ${list} entry ${i + 1} has the mask ${mask.join('.')}, which is not a contiguous subnet mask`);
      const expectedFull = Math.floor(prefix / 8);
      const expectedLast = prefix % 8 === 0 ? 0 : mask[expectedFull] ?? 0;
      if (fullBytes !== expectedFull || lastByte !== expectedLast) {
        throw new IpSecurityError(`${what}: the ${list} entry ${i + 1} says its mask has ${fullBytes} full bytes and a last byte of ${lastByte}, but the mask is ${mask.join('.')}`);
      }
      for (let k = 1; k < items; k++) {
        const address = [...bytes.subarray(data + k * 4, data + k * 4 + 4)].join('.');
        rules.push(prefix === 32 ? { kind: 'address', address } : { kind: 'subnet', network: address, prefix });
      }
    }
    if (rules.length !== total) throw new IpSecurityError(`${what}: the ${list} header counts ${total} addresses but its entries hold ${rules.length}`);
    return { present: entries > 0, rules };
  };
  const names = (at: number, list: string): void => {
    const entries = dword(at, `${list} entry count`);
    if (entries !== 0) {
      throw new IpSecurityError(`${what}: the ${list} holds domain-name entries; their binary layout is not documented, so Relaydesk does not read them from MetaBase.xml. Export this server with server/import/iis-export.ps1 (it reads the lists through ADSI, decoded) and import that JSON instead`);
    }
  };
  const deny = addresses(denyAddr, 'deny list');
  const grant = addresses(grantAddr, 'grant list');
  names(denyName, 'deny name list');
  names(grantName, 'grant name list');
  if (deny.rules.length > 0 && grant.rules.length > 0) throw new IpSecurityError(`${what}: both a grant and a deny list hold addresses; IIS writes only one of them`);
  if (deny.rules.length > 0) return { mode: 'all-except', rules: deny.rules };
  // A grant list (even one holding only its header), or nothing at all: "Only the list below".
  return { mode: 'only-list', rules: grant.rules };
}

/** 255.255.240.0 → 20; null when the mask is not contiguous. */
export function maskPrefix(mask: readonly number[]): number | null {
  const value = ((mask[0] ?? 0) << 24 | (mask[1] ?? 0) << 16 | (mask[2] ?? 0) << 8 | (mask[3] ?? 0)) >>> 0;
  const prefix = 32 - Math.log2(((~value) >>> 0) + 1);
  return Number.isInteger(prefix) ? prefix : null;
}

/** Encode a list the way IIS does (for test fixtures and for documentation of the layout). */
export function encodeIpSecurity(list: { mode: ListMode; rules: Array<{ address: string; prefix: number }> }): string {
  const byPrefix = new Map<number, string[]>();
  for (const rule of list.rules) byPrefix.set(rule.prefix, [...(byPrefix.get(rule.prefix) ?? []), rule.address]);
  const entries = [...byPrefix.entries()];
  const withEntries = (count: number) => 8 + count * 20;
  const denyCount = list.mode === 'all-except' ? entries.length : 0;
  const grantCount = list.mode === 'only-list' ? entries.length : 0;
  const denyAt = HEADER_BYTES;
  const grantAt = denyAt + withEntries(denyCount);
  const denyNameAt = grantAt + withEntries(grantCount);
  const grantNameAt = denyNameAt + 8;
  const referenceSize = grantNameAt + 8;
  const out: number[] = [];
  const put = (value: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(value >>> 0); out.push(...b); };
  [denyAt, grantAt, denyNameAt, grantNameAt].forEach((offset) => put(offset | SELF_RELATIVE));
  put(1);
  put(referenceSize);
  const data: number[] = [];
  const header = (own: boolean) => {
    const mine = own ? entries : [];
    put(mine.length);
    put(mine.reduce((sum, [, addresses]) => sum + addresses.length, 0));
    let offset = referenceSize + data.length;
    for (const [prefix, addresses] of mine) {
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      const maskBytes = [mask >>> 24, (mask >>> 16) & 255, (mask >>> 8) & 255, mask & 255];
      put(AF_INET);
      put(addresses.length + 1);
      put(Math.floor(prefix / 8));
      put(prefix % 8 === 0 ? 0 : maskBytes[Math.floor(prefix / 8)] ?? 0);
      put(offset | SELF_RELATIVE);
      data.push(...maskBytes, ...addresses.flatMap((a) => a.split('.').map(Number)));
      offset = referenceSize + data.length;
    }
  };
  header(list.mode === 'all-except');
  header(list.mode === 'only-list');
  put(0); put(0);
  put(0); put(0);
  return Buffer.from([...out, ...data]).toString('hex').toUpperCase();
}
