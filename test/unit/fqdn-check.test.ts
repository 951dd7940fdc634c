// "Check DNS" for the FQDN: a machine's short name that resolves through its hosts file is not a
// name receiving servers accept, and the check says so (it said only "an address of this machine").
import { describe, expect, it } from 'vitest';
import { checkFqdn } from '../../server/dns/fqdn-check';

describe('checkFqdn', () => {
  it('says when the name has no domain and resolves to loopback only', async () => {
    const check = await checkFqdn('localhost');
    expect(check.addresses.length).toBeGreaterThan(0);
    expect(check.message).toContain('localhost is not a fully qualified name (it has no domain)');
    expect(check.message).toContain('Properties → General');
    expect(check.message).toContain('It resolves to loopback only');
  });

  it('says nothing more about a dotted name that resolves (an address literal stands in for DNS here)', async () => {
    const check = await checkFqdn('127.0.0.1');
    expect(check.message).toBe('127.0.0.1 resolves to 127.0.0.1, an address of this machine. It resolves to loopback only: other machines cannot reach this server by that name.');
  });
});
