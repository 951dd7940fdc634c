// The IIS 6 IPSECLIST value (IPSecurity, RelayIpList): the value IIS Manager writes for
// "Only the list below: 127.0.0.1" decodes to exactly that; encode/decode round trips for grant and
// deny lists with several masks; anything that does not match the layout is refused by name.
import { describe, expect, it } from 'vitest';
import { decodeIpSecurity, encodeIpSecurity, maskPrefix } from '../../server/import/iis-ip-security';

// Published in SaltStack's win_smtp_server module as what IIS Manager stores for 127.0.0.1 granted.
const IIS_MANAGER_127 = Buffer.from([24, 0, 0, 128, 32, 0, 0, 128, 60, 0, 0, 128, 68, 0, 0, 128, 1, 0, 0, 0, 76, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 76, 0, 0, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 127, 0, 0, 1]).toString('hex');

describe('IIS IP security lists', () => {
  it('decodes the value IIS Manager writes for "Only the list below: 127.0.0.1", and encodes it byte for byte', () => {
    expect(decodeIpSecurity(IIS_MANAGER_127, 'RelayIpList')).toEqual({ mode: 'only-list', rules: [{ kind: 'address', address: '127.0.0.1' }] });
    expect(encodeIpSecurity({ mode: 'only-list', rules: [{ address: '127.0.0.1', prefix: 32 }] }).toLowerCase()).toBe(IIS_MANAGER_127);
  });

  it('round-trips grant and deny lists with addresses and subnets of several masks', () => {
    const rules = [{ address: '10.0.0.0', prefix: 8 }, { address: '192.168.1.0', prefix: 24 }, { address: '192.168.7.9', prefix: 32 }, { address: '172.16.0.0', prefix: 12 }, { address: '192.168.2.7', prefix: 32 }];
    for (const mode of ['only-list', 'all-except'] as const) {
      const decoded = decodeIpSecurity(encodeIpSecurity({ mode, rules }), 'IPSecurity');
      expect(decoded.mode).toBe(mode);
      expect(decoded.rules).toHaveLength(5);
      expect(decoded.rules).toEqual(expect.arrayContaining([
        { kind: 'subnet', network: '10.0.0.0', prefix: 8 }, { kind: 'subnet', network: '172.16.0.0', prefix: 12 },
        { kind: 'address', address: '192.168.7.9' }, { kind: 'address', address: '192.168.2.7' }, { kind: 'subnet', network: '192.168.1.0', prefix: 24 },
      ]));
    }
  });

  it('reads an empty value as "All except the list below" and a header-only grant list as "Only the list below", empty', () => {
    expect(decodeIpSecurity('', 'RelayIpList')).toEqual({ mode: 'all-except', rules: [] });
    const headerOnly = IIS_MANAGER_127.slice(0, 76 * 2 + 8) // through the mask
      .replace(/^(.{72})01000000(.{8})02000000/, '$100000000$201000000');
    expect(decodeIpSecurity(headerOnly, 'RelayIpList')).toEqual({ mode: 'only-list', rules: [] });
  });

  it.each([
    { desc: 'odd hex', value: IIS_MANAGER_127.slice(0, -1), error: /not hexadecimal bytes/ },
    { desc: 'shorter than the header', value: '18000080', error: /shorter than the 24-byte header/ },
    { desc: 'truncated data', value: IIS_MANAGER_127.slice(0, -8), error: /the value is truncated/ },
    { desc: 'a pointer that is not self-relative', value: `18000000${IIS_MANAGER_127.slice(8)}`, error: /not a self-relative offset/ },
    { desc: 'a non-contiguous mask', value: IIS_MANAGER_127.replace('ffffffff7f000001', 'ff00ff007f000001'), error: /not a contiguous subnet mask/ },
    { desc: 'counts that disagree', value: IIS_MANAGER_127.replace(/^(.{72})01000000/, '$102000000'), error: /counts 2 addresses but its entries hold 1/ },
    { desc: 'an IPv6 family', value: IIS_MANAGER_127.replace(/^(.{80})02000000/, '$117000000'), error: /address family 23/ },
    { desc: 'domain-name entries', value: IIS_MANAGER_127.replace(/^(.{136})00000000/, '$101000000'), error: /domain-name entries; their binary layout is not documented/ },
  ])('refuses $desc with the reason', ({ value, error }) => {
    expect(() => decodeIpSecurity(value, 'RelayIpList')).toThrow(error);
  });

  it('turns masks into prefix lengths', () => {
    expect(maskPrefix([255, 255, 255, 255])).toBe(32);
    expect(maskPrefix([255, 240, 0, 0])).toBe(12);
    expect(maskPrefix([0, 0, 0, 0])).toBe(0);
    expect(maskPrefix([255, 0, 255, 0])).toBeNull();
  });
});
