// Delivery to other domains with nodemailer's SMTP client: through the virtual server's smart
// host, or directly by MX (configured DNS servers), optionally trying direct first. 4xx replies
// and connection failures retry at the configured intervals until expiry; 5xx fails the
// recipient; failures are reported to the sender (RFC 3464), or, for the null sender, the message
// goes to the badmail folder with the reason. One delivery per destination with all its recipients.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type tls from 'node:tls';
import nodemailer from 'nodemailer';
import type { VirtualServerConfig } from '../contract/settings';
import type { EventBus } from '../log/event-bus';
import type { QueueEntry, QueuedRecipient, Store } from '../store/store';
import { resolveDestinations } from '../dns/mx';
import type { Spool } from '../spool/spool';
import { readMessageHeaders, readSpooled, releaseSpooled, spooledStream } from '../spool/spooled-body';
import { buildNdr, type FailedRecipient } from './ndr';
import { CoalescingRunner } from './coalescing-runner';
import { smartHostTlsOptions } from './smart-host-certificate';
import { SignInNeeded, type SmartHostTokens } from '../oauth/smart-host-tokens';
import { GRAPH_URL } from '../contract/settings';
import { explainUpstreamReply } from '../contract/upstream-replies';
import { type GraphOutcome, sendViaGraph } from './graph-send';
import { SendGovernor } from './send-governor';
import { rewriteFromToMailbox } from './send-as';
import { failoverApplies, selectRoute } from '../contract/routes';
import type { DeliveryRoute } from '../contract/settings';
import { compilePolicy, matchTrustedDevice } from '../policy/session-policy';
import { routeView } from '../oauth/smart-host-tokens';

const BATCH = 50;
const POLL_MS = 1000;

export interface RemoteDeliveryDeps {
  /** OAuth2 access tokens for smart hosts that sign in with XOAUTH2. */
  tokens: Pick<SmartHostTokens, 'accessToken' | 'invalidate'>;
  store: Store;
  bus: EventBus;
  spool: Spool;
  now(): Date;
  serverConfig(name: string): VirtualServerConfig | null;
  routeOf(domain: string): 'local' | 'remote';
  /** host:port of the internal mail server for an accepted domain set to "forward", else null. */
  forwardTarget(domain: string): string | null;
  badmailFolder(serverName: string): string;
  /** After outcomes were recorded (and reports queued): a message with nothing left to do leaves the spool. */
  finished(message: QueueEntry): Promise<void>;
}

type Outcome =
  | { kind: 'delivered'; reply: string }
  | { kind: 'failed'; reply: string; status: string }
  /** retryAfterMs: the provider asked not to come back sooner (HTTP Retry-After). */
  | { kind: 'deferred'; reply: string; retryAfterMs?: number | null };

interface Attempt {
  outcomes: Map<string, Outcome>;
  destination: string;
  /** The remote server refused our AUTH (EAUTH): an OAuth2 token is then fetched anew. */
  signInRefused?: boolean;
}

type SendAuth = { user: string; pass: string; type?: undefined } | { type: 'OAuth2'; user: string; accessToken: string };

export class RemoteDelivery {
  private timer: NodeJS.Timeout | null = null;
  private readonly runner = new CoalescingRunner(() => this.run(), (err) => {
    this.deps.bus.emit({ type: 'warning', at: this.deps.now().toISOString(), message: `delivery to other domains stopped with an error and is tried again at the next wake: ${err.message}` });
  });
  private readonly destinations = new Map<string, { active: number; waiting: Array<() => void> }>();
  private readonly governor: SendGovernor;
  private readonly heldNotices = new Map<string, number>();
  private readonly heldUntil = new Map<string, number>();
  private readonly explained = new Map<string, number>();
  private readonly policies = new WeakMap<VirtualServerConfig, ReturnType<typeof compilePolicy>>();

  constructor(private readonly deps: RemoteDeliveryDeps) {
    this.governor = new SendGovernor(() => deps.now().getTime());
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.timer.unref();
    this.wake();
  }

  wake(): void {
    this.runner.wake();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.runner.stop();
  }

  private async run(): Promise<void> {
    // Keep taking batches while full ones come back; a short batch means the queue is drained
    // for now, and the poll (or a new message) wakes the worker again.
    for (;;) {
      // Held servers are left out in the query, so their mail cannot crowd out other servers'.
      // Server settings are read once per batch, not once per message.
      const servers = new Map(this.deps.store.listServers().map((s) => [s.name, s]));
      const held = [...servers.values()].filter((s) => s.delivery.holdRemote).map((s) => s.name);
      // Everything held: no query at all (it would scan the whole held queue on every accepted message).
      if (held.length === servers.size) return;
      const due = this.deps.store.dueRemoteMessages(this.deps.now().toISOString(), BATCH, held);
      const limit = Math.max(1, ...due.map((m) => servers.get(m.serverName)?.delivery.outboundConnections ?? 20));
      let next = 0;
      const worker = async () => {
        while (next < due.length && !this.runner.isStopped) {
          const message = due[next++] as QueueEntry;
          const config = servers.get(message.serverName);
          if (config) await this.deliver(message, config);
        }
      };
      await Promise.all(Array.from({ length: Math.min(limit, due.length) }, worker));
      if (due.length < BATCH || this.runner.isStopped) return;
    }
  }

  private async deliver(message: QueueEntry, config: VirtualServerConfig): Promise<void> {
    const queued = message.recipients.filter((r) => r.route === 'remote' && r.state === 'queued');
    const routes = config.delivery.routes;
    // The trusted device a message came from matters only to routes that name devices.
    let device: string | null | undefined;
    const deviceOf = () => (device !== undefined ? device
      : (device = routes.some((r) => r.match.devices.length > 0) ? matchTrustedDevice(this.policyOf(config), message.clientAddress)?.name ?? null : null));
    // One delivery per route and destination: everything to a smart host at once, or per domain for MX.
    const groups = new Map<string, { view: VirtualServerConfig; route: DeliveryRoute | null; destination: string; recipients: string[] }>();
    for (const r of queued) {
      const forward = this.deps.forwardTarget(r.domain);
      const route = forward || routes.length === 0 ? null : selectRoute(routes, { mailFrom: message.mailFrom, authUser: message.authUser, device: deviceOf(), recipientDomain: r.domain });
      const view = route ? routeView(config, route) : config;
      const destination = forward ? `(forward) ${forward}` : view.delivery.smartHost && !view.delivery.attemptDirectFirst ? '(smart host)' : r.domain;
      const key = `${view.name}\u0000${destination}`;
      const group = groups.get(key) ?? { view, route, destination, recipients: [] };
      group.recipients.push(r.address);
      groups.set(key, group);
    }
    for (const { view, route, destination, recipients } of groups.values()) {
      if (destination === '(smart host)' && this.heldBack(message, view, recipients)) continue;
      const host = destination === '(smart host)' ? view.delivery.smartHost : null;
      // Graph allows 4 concurrent requests per mailbox; a smart host gets the per-destination limit.
      const slot = host?.transport === 'graph' ? `graph:${host.user ?? ''}` : host ? `smart host ${view.name}` : destination;
      const release = await this.destinationSlot(slot, host?.transport === 'graph' ? Math.min(4, config.delivery.outboundConnectionsPerDomain) : config.delivery.outboundConnectionsPerDomain);
      try {
        let attempt = await this.attempt(message, view, destination, recipients, sendAsOf(route));
        if (route?.failover) attempt = await this.failover(message, config, route, attempt);
        await this.record(message, config, attempt);
      } finally {
        release();
      }
    }
  }

  /**
   * The compiled policy of a server's settings, once per settings object (the store hands out the
   * same frozen object until they change): 10,000 list entries take tens of ms to compile.
   */
  private policyOf(config: VirtualServerConfig): ReturnType<typeof compilePolicy> {
    let policy = this.policies.get(config);
    if (!policy) this.policies.set(config, policy = compilePolicy(config, []));
    return policy;
  }

  /** The route answered one of its failover codes: the recipients not delivered try the failover route at once. */
  private async failover(message: QueueEntry, config: VirtualServerConfig, route: DeliveryRoute, first: Attempt): Promise<Attempt> {
    const open = [...first.outcomes].filter(([, o]) => o.kind !== 'delivered');
    if (open.length === 0 || !route.failover || !failoverApplies(route, open.map(([, o]) => o.reply))) return first;
    const name = route.failover.route.toLowerCase();
    const target = name === 'default' ? null : config.delivery.routes.find((r) => r.name.toLowerCase() === name) ?? null;
    if (name !== 'default' && !target) return first;
    const view = target ? routeView(config, target) : { ...config, delivery: { ...config.delivery, attemptDirectFirst: false } };
    const outcomes = new Map(first.outcomes);
    const destinations: string[] = [];
    const byDestination = new Map<string, string[]>();
    for (const [address] of open) {
      const destination = view.delivery.smartHost ? '(smart host)' : address.slice(address.lastIndexOf('@') + 1).toLowerCase();
      byDestination.set(destination, [...(byDestination.get(destination) ?? []), address]);
    }
    for (const [destination, to] of byDestination) {
      const second = await this.attempt(message, view, destination, to, sendAsOf(target));
      for (const [address, outcome] of second.outcomes) outcomes.set(address, outcome);
      destinations.push(second.destination);
    }
    return { outcomes, destination: `${first.destination}, then ${destinations.join(', ')} (failover of route ${route.name})` };
  }

  /**
   * The smart host's caps (messages a minute, recipients a day): over them, the recipients wait in
   * the queue until the window frees up (no attempt counted), and the admin is told once an hour.
   */
  private heldBack(message: QueueEntry, config: VirtualServerConfig, to: string[]): boolean {
    const host = config.delivery.smartHost;
    if (!host || (host.maxMessagesPerMinute === null && host.maxRecipientsPerDay === null)) return false;
    const route = `${config.name}:${host.transport}:${host.user ?? host.host}`.toLowerCase();
    const caps = { messagesPerMinute: host.maxMessagesPerMinute, recipientsPerDay: host.maxRecipientsPerDay };
    const wait = this.governor.waitMs(route, caps, to.length);
    if (wait === 0) {
      this.governor.record(route, to.length);
      return false;
    }
    const now = this.deps.now();
    this.deps.store.postponeRecipients(message.id, to, new Date(now.getTime() + wait).toISOString());
    const last = this.heldNotices.get(route) ?? 0;
    if (now.getTime() - last > 3_600_000) {
      this.heldNotices.set(route, now.getTime());
      this.deps.bus.emit({ type: 'warning', at: now.toISOString(), message: `${config.name}: mail for other domains is held back to keep ${host.user ?? host.host} under its provider's caps (${caps.messagesPerMinute ?? 'no'} messages a minute, ${caps.recipientsPerDay ?? 'no'} recipients a day); it waits in the queue and goes as the window frees up` });
    }
    this.heldUntil.set(config.name, now.getTime() + wait);
    return true;
  }

  /** Servers whose smart host is being held back by its caps now, and until when. */
  heldBackServers(): Array<{ server: string; until: string }> {
    const now = this.deps.now().getTime();
    return [...this.heldUntil].filter(([, until]) => until > now).map(([server, until]) => ({ server, until: new Date(until).toISOString() }));
  }

  /** Wait for one of the destination's connection slots (IIS: "limit number of connections per domain"). */
  private async destinationSlot(destination: string, limit: number): Promise<() => void> {
    let slot = this.destinations.get(destination);
    if (!slot) this.destinations.set(destination, slot = { active: 0, waiting: [] });
    const current = slot;
    while (current.active >= limit) await new Promise<void>((resolve) => current.waiting.push(resolve));
    current.active++;
    return () => {
      current.active--;
      const next = current.waiting.shift();
      if (next) next();
      else if (current.active === 0) this.destinations.delete(destination);
    };
  }

  private async attempt(message: QueueEntry, config: VirtualServerConfig, domain: string, to: string[], sendAs: string | null = null): Promise<Attempt> {
    const { delivery } = config;
    const hops = await countReceivedHeaders(message);
    if (hops > delivery.maxHopCount) {
      return allOf(to, { kind: 'failed', status: '5.4.6', reply: `554 5.4.6 Too many hops (${hops} Received headers, limit ${delivery.maxHopCount}): mail loop` }, 'loop detection');
    }
    if (domain.startsWith('(forward) ')) {
      // An accepted domain handed to the office's own mail server: opportunistic STARTTLS, no AUTH.
      const target = domain.slice('(forward) '.length);
      const colon = target.lastIndexOf(':');
      const host = colon > 0 ? target.slice(0, colon).replace(/^\[(.*)\]$/, '$1') : target;
      const port = colon > 0 ? Number(target.slice(colon + 1)) : 25;
      return this.send(message, config, { host, port, secure: false, requireTLS: false, ignoreTLS: false, tls: opportunisticTls(host) }, to, `internal server ${target}`);
    }
    const direct = domain !== '(smart host)' && (!delivery.smartHost || delivery.attemptDirectFirst);
    if (direct) {
      const viaMx = await this.sendDirect(message, config, domain, to);
      const anyDeferred = [...viaMx.outcomes.values()].some((o) => o.kind === 'deferred');
      if (!anyDeferred || !delivery.smartHost) return viaMx;
    }
    const smartHost = delivery.smartHost;
    if (!smartHost) return allOf(to, { kind: 'deferred', reply: '451 4.4.0 No route' }, 'none');
    if (smartHost.transport === 'graph') return this.sendGraph(message, config, to, sendAs);
    const destination = `smart host ${smartHost.host}:${smartHost.port}`;
    let auth: SendAuth | undefined;
    if (smartHost.authentication === 'basic' && smartHost.user) auth = { user: smartHost.user, pass: smartHost.password ?? '' };
    if (smartHost.authentication === 'oauth2' && smartHost.user) {
      try {
        auth = { type: 'OAuth2', user: smartHost.user, accessToken: await this.deps.tokens.accessToken(config) };
      } catch (err) {
        // No token: the mail waits (deferred at the normal intervals), it is never bounced for it.
        const reply = err instanceof SignInNeeded ? `454 4.7.0 Sign-in to the smart host needed (${(err as Error).message})` : `451 4.7.0 No OAuth2 token yet (${(err as Error).message})`;
        return allOf(to, { kind: 'deferred', reply }, destination);
      }
    }
    // A certificate-based Microsoft 365 connector recognises the office by the certificate it presents.
    const clientCertificate = smartHost.clientCertificate ? this.deps.store.findCertificate(smartHost.clientCertificate) : null;
    if (smartHost.clientCertificate && !clientCertificate) {
      return allOf(to, { kind: 'deferred', reply: `454 4.7.0 The client certificate "${smartHost.clientCertificate}" for the smart host is not in the store` }, destination);
    }
    const attempt = await this.send(message, config, {
      host: smartHost.host, port: smartHost.port, secure: smartHost.security === 'tls', requireTLS: smartHost.security === 'starttls',
      ignoreTLS: smartHost.security === 'none', auth,
      tls: { ...smartHostTlsOptions(smartHost), ...(clientCertificate ? { cert: clientCertificate.certPem + clientCertificate.chainPem, key: clientCertificate.keyPem } : {}) },
    }, to, destination, sendAs);
    if (auth?.type === 'OAuth2' && attempt.signInRefused) this.deps.tokens.invalidate(config.name);
    return attempt;
  }

  /** Microsoft Graph sendMail as the configured mailbox (graph-send.ts); a refused token is fetched anew next time. */
  private async sendGraph(message: QueueEntry, config: VirtualServerConfig, to: string[], sendAs: string | null): Promise<Attempt> {
    const host = config.delivery.smartHost as NonNullable<VirtualServerConfig['delivery']['smartHost']>;
    const mailbox = host.user ?? '';
    const destination = `Microsoft Graph as ${mailbox}`;
    let accessToken: string;
    try {
      accessToken = await this.deps.tokens.accessToken(config);
    } catch (err) {
      const reply = err instanceof SignInNeeded ? `454 4.7.0 Sign-in to the smart host needed (${(err as Error).message})` : `451 4.7.0 No OAuth2 token yet (${(err as Error).message})`;
      return allOf(to, { kind: 'deferred', reply }, destination);
    }
    this.deps.bus.emit({ type: 'delivery', at: this.deps.now().toISOString(), queueId: message.id, recipients: to, destination, outcome: 'attempt', reply: '' });
    let bytes: Buffer;
    try {
      bytes = await readSpooled(message);
      if (sendAs) bytes = rewriteFromToMailbox(bytes, sendAs);
    } catch (err) {
      return allOf(to, { kind: 'deferred', reply: `451 4.3.0 Cannot read the queued message (${(err as Error).message})` }, destination);
    }
    const outcome = await sendViaGraph({ graphUrl: host.graphUrl ?? GRAPH_URL, mailbox, accessToken, message: bytes, recipients: to, timeoutMs: config.delivery.outboundTimeoutSeconds * 1000, now: this.deps.now });
    if (outcome.kind === 'deferred' && outcome.tokenRefused) this.deps.tokens.invalidate(config.name);
    const { tokenRefused: _refused, ...recorded } = outcome as GraphOutcome & { tokenRefused?: boolean };
    return allOf(to, recorded as Outcome, destination);
  }

  private async sendDirect(message: QueueEntry, config: VirtualServerConfig, domain: string, to: string[]): Promise<Attempt> {
    let hosts;
    try {
      hosts = await resolveDestinations(domain, config.delivery.dnsServers);
    } catch (err) {
      return allOf(to, { kind: 'deferred', reply: `451 4.4.3 DNS lookup for ${domain} failed (${(err as { code?: string }).code ?? (err as Error).message})` }, `MX of ${domain}`);
    }
    if (hosts.length === 0) return allOf(to, { kind: 'failed', status: '5.1.2', reply: `550 5.1.2 ${domain} has no mail server (no MX, A or AAAA record)` }, `MX of ${domain}`);
    let last: Attempt | null = null;
    for (const mx of hosts) {
      for (const address of mx.addresses) {
        last = await this.send(message, config, { host: address, port: config.delivery.outboundPort, secure: false, requireTLS: false, ignoreTLS: false, tls: opportunisticTls(mx.host) }, to, `${mx.host} [${address}]`);
        if (![...last.outcomes.values()].every((o) => o.kind === 'deferred')) return last;
      }
    }
    return last as Attempt;
  }

  private async send(message: QueueEntry, config: VirtualServerConfig, target: {
    host: string; port: number; secure: boolean; requireTLS: boolean; ignoreTLS: boolean; tls: tls.ConnectionOptions;
    auth?: SendAuth | undefined;
  }, to: string[], destination: string, sendAs: string | null = null): Promise<Attempt> {
    const timeout = config.delivery.outboundTimeoutSeconds * 1000;
    const transport = nodemailer.createTransport({
      host: target.host, port: target.port, secure: target.secure, requireTLS: target.requireTLS, ignoreTLS: target.ignoreTLS,
      name: config.fqdn, auth: target.auth, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout,
      tls: target.tls, logger: false,
    });
    this.deps.bus.emit({ type: 'delivery', at: this.deps.now().toISOString(), queueId: message.id, recipients: to, destination, outcome: 'attempt', reply: '' });
    try {
      // Sent as the route's mailbox: the envelope sender and From header become the mailbox (send-as.ts).
      const info = await transport.sendMail({
        envelope: { from: sendAs && message.mailFrom !== '' ? sendAs : masquerade(message.mailFrom, config.delivery.masqueradeDomain), to },
        raw: sendAs ? rewriteFromToMailbox(await readSpooled(message), sendAs) : spooledStream(message),
      });
      const outcomes = new Map<string, Outcome>();
      for (const address of info.accepted.map(String)) outcomes.set(address, { kind: 'delivered', reply: info.response });
      const rejected = (info as { rejectedErrors?: Array<{ recipient?: string; responseCode?: number; response?: string }> }).rejectedErrors ?? [];
      for (const error of rejected) if (error.recipient) outcomes.set(error.recipient, classify(error.responseCode, error.response ?? 'rejected'));
      for (const address of to) if (!outcomes.has(address)) outcomes.set(address, { kind: 'deferred', reply: '451 4.4.0 No answer for this recipient' });
      return { outcomes, destination };
    } catch (err) {
      const e = err as { code?: string; responseCode?: number; response?: string; message: string };
      if (e.code === 'EAUTH') {
        // A refused sign-in is the smart host's or our configuration's problem, not the recipients': wait, never bounce.
        return { ...allOf(to, { kind: 'deferred', reply: `454 4.7.0 The smart host refused the sign-in: ${(e.response ?? e.message).trim()}` }, destination), signInRefused: true };
      }
      return allOf(to, classify(e.responseCode, e.response ?? e.message), destination);
    } finally {
      transport.close();
    }
  }

  private async record(message: QueueEntry, config: VirtualServerConfig, attempt: Attempt): Promise<void> {
    const now = this.deps.now();
    const groups: Record<Outcome['kind'], Array<[string, Outcome]>> = { delivered: [], failed: [], deferred: [] };
    for (const [address, outcome] of attempt.outcomes) groups[outcome.kind].push([address, outcome]);
    const failed: FailedRecipient[] = groups.failed.map(([address, o]) => ({ address, status: (o as { status: string }).status, diagnostic: o.reply }));
    for (const [address, outcome] of groups.delivered) {
      this.deps.store.recordDelivery(message.id, [address], { state: 'delivered', reply: outcome.reply });
    }
    if (groups.delivered.length > 0) {
      this.deps.bus.emit({ type: 'delivered', at: now.toISOString(), queueId: message.id, recipients: groups.delivered.map(([a]) => a), destination: attempt.destination });
    }
    const age = now.getTime() - Date.parse(message.receivedAt);
    const expired = age > config.delivery.expirationHours * 3_600_000;
    const delayed: FailedRecipient[] = [];
    for (const [address, outcome] of groups.deferred) {
      const recipient = message.recipients.find((r) => r.address === address);
      if (!expired && age > config.delivery.delayNotificationHours * 3_600_000 && recipient && !recipient.delayNotified) {
        delayed.push({ address, status: /\b(4\.\d{1,3}\.\d{1,3})\b/.exec(outcome.reply)?.[1] ?? '4.4.7', diagnostic: outcome.reply });
      }
      if (expired) {
        failed.push({ address, status: '4.4.7', diagnostic: `${outcome.reply} (gave up after ${config.delivery.expirationHours} hours)` });
        continue;
      }
      const attempts = (recipient?.attempts ?? 0) + 1;
      const r = config.delivery.retryMinutes;
      const minutes = attempts === 1 ? r.first : attempts === 2 ? r.second : attempts === 3 ? r.third : r.subsequent;
      const wait = Math.max(minutes * 60_000, outcome.kind === 'deferred' ? outcome.retryAfterMs ?? 0 : 0);
      this.deps.store.deferRecipients(message.id, [address], outcome.reply, new Date(now.getTime() + wait).toISOString());
      this.deps.bus.emit({ type: 'delivery', at: now.toISOString(), queueId: message.id, recipients: [address], destination: attempt.destination, outcome: 'deferred', reply: outcome.reply });
    }
    if (delayed.length > 0) {
      // Told once per recipient, before the report is queued: a crash in between loses a warning, never repeats it.
      this.deps.store.markDelayNotified(message.id, delayed.map((d) => d.address));
      this.deps.bus.emit({ type: 'delivery', at: now.toISOString(), queueId: message.id, recipients: delayed.map((d) => d.address), destination: attempt.destination, outcome: 'delayed', reply: `still queued after ${config.delivery.delayNotificationHours} hours` });
      if (message.mailFrom !== '') await this.reportOrWarn(message, config, delayed, 'delayed');
    }
    if (failed.length > 0) {
      for (const f of failed) this.deps.store.recordDelivery(message.id, [f.address], { state: 'failed', reply: f.diagnostic });
      this.deps.bus.emit({ type: 'delivery', at: now.toISOString(), queueId: message.id, recipients: failed.map((f) => f.address), destination: attempt.destination, outcome: 'failed', reply: failed[0]?.diagnostic ?? '' });
      // The report needs the message's headers: it is queued before the body may leave the spool.
      if (!(await this.reportOrWarn(message, config, failed, 'failed'))) return;
    }
    this.explain(config, [...groups.deferred, ...groups.failed].map(([, o]) => o.reply));
    if (groups.delivered.length > 0 || failed.length > 0) await this.deps.finished(message);
  }

  /** A reply the admin must act on (upstream-replies.ts) becomes a warning, once an hour per server and kind. */
  private explain(config: VirtualServerConfig, replies: string[]): void {
    const now = this.deps.now();
    for (const reply of replies) {
      const explanation = explainUpstreamReply(reply);
      if (!explanation) continue;
      const key = `${config.name}:${explanation.id}`;
      if (now.getTime() - (this.explained.get(key) ?? 0) < 3_600_000) continue;
      this.explained.set(key, now.getTime());
      this.deps.bus.emit({ type: 'warning', at: now.toISOString(), message: `${config.name}: ${explanation.problem} ${explanation.fix} (reply: ${reply})` });
    }
  }

  /** Queue the report; a failure (the disk is full) is a warning, and the body stays for the sweep to retry. */
  private async reportOrWarn(message: QueueEntry, config: VirtualServerConfig, recipients: FailedRecipient[], action: 'failed' | 'delayed'): Promise<boolean> {
    try {
      await this.report(message, config, recipients, action);
      return true;
    } catch (err) {
      this.deps.bus.emit({ type: 'warning', at: this.deps.now().toISOString(), message: `could not queue the ${action === 'failed' ? 'non-delivery report' : 'delay notification'} for ${message.id}: ${(err as Error).message}` });
      return false;
    }
  }

  /** Delete a message from the queue, optionally telling the sender (queue delete --ndr). */
  async deleteMessage(id: string, withReport: boolean): Promise<void> {
    const message = this.deps.store.deleteMessage(id);
    const config = this.deps.serverConfig(message.serverName);
    const open = message.recipients.filter((r) => r.state === 'queued');
    if (withReport && config && open.length > 0 && message.mailFrom !== '') {
      await this.report(message, config, open.map((r) => ({ address: r.address, status: '5.0.0', diagnostic: 'deleted from the queue by the administrator' })));
    }
    // Its record is gone, so a batch file goes with the last message it held.
    if (message.body === 'spool') await releaseSpooled(message, this.deps.store);
    else if (message.body === 'kept') await fs.promises.rm(message.spoolPath, { force: true });
  }

  /** Tell the sender (and the NDR copy address); a message from the null sender goes to badmail. */
  private async report(message: QueueEntry, config: VirtualServerConfig, failed: FailedRecipient[], action: 'failed' | 'delayed' = 'failed'): Promise<void> {
    const now = this.deps.now();
    if (message.mailFrom === '' && action === 'failed') {
      const folder = this.deps.badmailFolder(message.serverName);
      await fs.promises.mkdir(folder, { recursive: true, mode: 0o700 });
      await fs.promises.writeFile(path.join(folder, `${message.id}.bad`), await readSpooled(message), { mode: 0o600 });
      await fs.promises.writeFile(path.join(folder, `${message.id}.bdr`), `Queue ID: ${message.id}\r\nReason: undeliverable and no sender to return it to (null sender)\r\n${failed.map((f) => `  <${f.address}>: ${f.diagnostic}`).join('\r\n')}\r\n`, { mode: 0o600 });
      this.deps.bus.emit({ type: 'delivery', at: now.toISOString(), queueId: message.id, recipients: failed.map((f) => f.address), destination: folder, outcome: 'badmail', reply: 'undeliverable, null sender' });
      return;
    }
    const ndr = buildNdr({
      reportingMta: config.fqdn, sender: message.mailFrom, arrivalDate: new Date(message.receivedAt), now, recipients: failed,
      originalHeaders: await readMessageHeaders(message), originalQueueId: message.id,
      action, willRetryUntil: new Date(Date.parse(message.receivedAt) + config.delivery.expirationHours * 3_600_000),
    });
    const recipients = [message.mailFrom, ...(config.messages.ndrCopyTo ? [config.messages.ndrCopyTo] : [])].map((address): QueuedRecipient => {
      const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
      return { address, domain, route: this.deps.routeOf(domain) };
    });
    await this.deps.spool.accept(Readable.from([Buffer.from(ndr)]), {
      serverName: message.serverName, mailFrom: '', recipients, clientAddress: '127.0.0.1', authUser: null, prependHeaders: () => '',
    }, () => null);
    this.deps.bus.emit({ type: 'delivery', at: now.toISOString(), queueId: message.id, recipients: failed.map((f) => f.address), destination: `<${message.mailFrom}>`, outcome: 'returned', reply: action === 'delayed' ? 'delay notification queued' : 'non-delivery report queued' });
  }
}

/** Opportunistic STARTTLS: used when offered, the certificate need not verify (RFC 3207 §4.1 practice). */
function opportunisticTls(servername: string): tls.ConnectionOptions {
  return { rejectUnauthorized: false, servername, minVersion: 'TLSv1.2' };
}

function classify(code: number | undefined, reply: string): Outcome {
  const text = reply.trim() || 'no reply';
  if (code !== undefined && code >= 500) return { kind: 'failed', reply: text, status: /\b(5\.\d{1,3}\.\d{1,3})\b/.exec(text)?.[1] ?? '5.0.0' };
  return { kind: 'deferred', reply: code ? text : `connection failed: ${text}` };
}

function allOf(to: string[], outcome: Outcome, destination: string): Attempt {
  return { outcomes: new Map(to.map((address) => [address, outcome])), destination };
}

function masquerade(sender: string, domain: string | null): string {
  if (!domain || sender === '') return sender;
  return `${sender.slice(0, sender.lastIndexOf('@'))}@${domain}`;
}

async function countReceivedHeaders(message: QueueEntry): Promise<number> {
  return ((await readMessageHeaders(message)).match(/^Received:/gim) ?? []).length;
}

/** The mailbox a route sends as, when it rewrites the sender to it. */
function sendAsOf(route: DeliveryRoute | null): string | null {
  return route?.sendAsMailbox && route.smartHost?.user ? route.smartHost.user : null;
}
