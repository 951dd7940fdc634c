// Which route a recipient's mail takes, and when a route fails over to another. Pure: the
// server's routes and the message's facts in, a route (or null: the default route) out.
import type { DeliveryRoute } from './settings';

export interface RoutingFacts {
  /** The envelope sender ("" for reports). */
  mailFrom: string;
  /** The user who signed in to submit it, if any. */
  authUser: string | null;
  /** The trusted device it came from, if any. */
  device: string | null;
  recipientDomain: string;
}

function senderMatches(patterns: readonly string[], sender: string): boolean {
  const address = sender.toLowerCase();
  return patterns.some((pattern) => {
    const p = pattern.toLowerCase();
    if (p.startsWith('@') || p.startsWith('*@')) return address.endsWith(p.slice(p.indexOf('@')));
    return address === p;
  });
}

function domainMatches(domains: readonly string[], domain: string): boolean {
  const d = domain.toLowerCase();
  return domains.some((x) => d === x.toLowerCase() || d.endsWith(`.${x.toLowerCase()}`));
}

const named = (names: readonly string[], name: string | null) => name !== null && names.some((n) => n.toLowerCase() === name.toLowerCase());

/** Does the route take this mail? Every list it gives must match; an empty list matches anything. */
export function routeMatches(route: DeliveryRoute, facts: RoutingFacts): boolean {
  const m = route.match;
  return (m.senders.length === 0 || senderMatches(m.senders, facts.mailFrom))
    && (m.users.length === 0 || named(m.users, facts.authUser))
    && (m.devices.length === 0 || named(m.devices, facts.device))
    && (m.recipientDomains.length === 0 || domainMatches(m.recipientDomains, facts.recipientDomain));
}

/** The first route that takes the mail, or null for the default route (the smart host, or MX). */
export function selectRoute(routes: readonly DeliveryRoute[], facts: RoutingFacts): DeliveryRoute | null {
  return routes.find((route) => routeMatches(route, facts)) ?? null;
}

/** Does one of these replies (not delivered) call for the route's failover? */
export function failoverApplies(route: DeliveryRoute, replies: readonly string[]): boolean {
  const on = route.failover?.on ?? [];
  return replies.some((reply) => on.some((code) => {
    if (code === 'any') return true;
    if (/^\d{3}$/.test(code)) return reply.startsWith(code) || reply.includes(`: ${code} `) || reply.includes(` ${code} `);
    return new RegExp(`(^|[^\\d.])${code.replace(/\./g, '\\.')}($|[^\\d.])`).test(reply);
  }));
}
