// The route matcher, failover codes and the send-as rewrite (pure).
import { describe, expect, it } from 'vitest';
import { failoverApplies, selectRoute } from '../../server/contract/routes';
import { deliveryRouteSchema } from '../../server/contract/settings';
import { rewriteFromToMailbox } from '../../server/delivery/send-as';

const route = (input: Record<string, unknown>) => deliveryRouteSchema.parse(input);
const routes = [
  route({ name: 'Printers', match: { devices: ['Reception printer'] } }),
  route({ name: 'Accounts', match: { senders: ['@accounts.example.com', 'boss@example.com'], recipientDomains: ['contoso.com'] } }),
  route({ name: 'Alice', match: { users: ['Alice'] } }),
];
const facts = { mailFrom: 'x@example.com', authUser: null, device: null, recipientDomain: 'elsewhere.test' };

describe('selectRoute', () => {
  it('takes the first route whose every given list matches; none is the default route', () => {
    expect(selectRoute(routes, { ...facts, device: 'reception PRINTER' })?.name).toBe('Printers');
    expect(selectRoute(routes, { ...facts, mailFrom: 'pay@accounts.example.com', recipientDomain: 'mail.contoso.com' })?.name).toBe('Accounts');
    expect(selectRoute(routes, { ...facts, mailFrom: 'Boss@Example.com', recipientDomain: 'contoso.com' })?.name).toBe('Accounts');
    // Sender matches but the recipient domain does not: the next route, or the default.
    expect(selectRoute(routes, { ...facts, mailFrom: 'pay@accounts.example.com', recipientDomain: 'notcontoso.com' })).toBeNull();
    expect(selectRoute(routes, { ...facts, mailFrom: 'pay@accounts.example.com', authUser: 'alice' })?.name).toBe('Alice');
    expect(selectRoute(routes, { ...facts, mailFrom: 'boss@example.com.evil' })).toBeNull();
    expect(selectRoute([], facts)).toBeNull();
  });
});

describe('failoverApplies', () => {
  const failover = (on: string[]) => route({ name: 'R', failover: { route: 'default', on } });
  it('matches enhanced codes exactly, basic codes at the start, and "any"', () => {
    const reply = '454 4.7.0 The smart host refused the sign-in: 535 5.7.139 Authentication unsuccessful';
    expect(failoverApplies(failover(['5.7.139']), [reply])).toBe(true);
    expect(failoverApplies(failover(['5.7.13']), [reply])).toBe(false);
    expect(failoverApplies(failover(['535']), [reply])).toBe(true);
    expect(failoverApplies(failover(['454']), [reply])).toBe(true);
    expect(failoverApplies(failover(['550']), [reply])).toBe(false);
    expect(failoverApplies(failover(['any']), ['451 4.4.0 whatever'])).toBe(true);
    expect(() => failover(['5.7'])).toThrow();
  });
});

describe('rewriteFromToMailbox', () => {
  it('replaces From (folded too) with the mailbox, keeps the original as Reply-To, and leaves the body alone', () => {
    const message = Buffer.from('Received: x\r\nFrom: "Long Name"\r\n <a@example.com>\r\nSubject: s\r\n\r\nFrom: not a header\r\n');
    expect(rewriteFromToMailbox(message, 'relay@contoso.com').toString()).toBe('Received: x\r\nSubject: s\r\nFrom: <relay@contoso.com>\r\nReply-To: "Long Name"\r\n <a@example.com>\r\n\r\nFrom: not a header\r\n');
    const withReplyTo = Buffer.from('From: a@example.com\r\nReply-To: list@example.com\r\n\r\nbody');
    expect(rewriteFromToMailbox(withReplyTo, 'relay@contoso.com').toString()).toBe('Reply-To: list@example.com\r\nFrom: <relay@contoso.com>\r\n\r\nbody');
  });
});
