// The one implementation of the AdminApi, over the App. Electron IPC and the headless web
// console both call these handlers with arguments already parsed by the contract's schemas.
import { promises as dnsPromises } from 'node:dns';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from './paths';
import type { AdminApiHandlers, CertificateSummary, QueueStatus, QueueSummary, ServerSummary, UserSummary } from './contract/admin-api';
import { AdminError } from './contract/errors';
import { addressRuleSchema, ipAddressSchema, oauth2SettingsSchema, oauthEndpoints, parseAddressRuleText, type VirtualServerConfig } from './contract/settings';

type SmartHostInput = NonNullable<NonNullable<VirtualServerPatch['delivery']>['smartHost']>;
import { type QueueEntry, type VirtualServerPatch, withoutHostSecrets } from './store/store';
import { parseOrThrow } from './contract/errors';
import type { App } from './app';
import { checkFqdn } from './dns/fqdn-check';
import { resolveDestinations } from './dns/mx';
import { completeConfigDocument } from './contract/config';
import { testRoute } from './delivery/route-test';
import { routeView } from './oauth/smart-host-tokens';
import { explainUpstreamReply } from './contract/upstream-replies';
import { newServerDefaults } from './contract/server-settings';
import { defaultFqdn } from './app';
import { inspectCertificate } from './tls/certificates';
import { applyIisImport, planIisImport } from './import/iis-import';
import { readMessageHeaders, readMessageSource } from './spool/spooled-body';

/** The console shows at most this much of a message's source. */
const SOURCE_LIMIT_BYTES = 1024 * 1024;
import { presentedSmartHostCertificate, trustSmartHostCertificate } from './delivery/smart-host-certificate';
import { toCsv, toW3c } from './log/export';
import { compilePolicy, matchTrustedDevice } from './policy/session-policy';
import { simulateSession } from './policy/simulate';
import { runSelfProbe } from './probe/self-probe';
import type { StoredUser } from './store/store';
import { cramMd5Contexts } from './auth/cram-md5';

function userSummary(user: StoredUser): UserSummary {
  return { name: user.name, enabled: user.enabled, senders: user.senders, cramMd5: user.cramSecret !== null, createdAt: user.createdAt, perHour: user.perHour, recipientsPerDay: user.recipientsPerDay };
}

/** The console never receives stored secrets: smart host passwords and OAuth2 client secrets (the server's and its routes') read as null ("stored, or not set"). */
function withoutSecrets(config: VirtualServerConfig): VirtualServerConfig {
  return { ...config, delivery: withoutHostSecrets(config.delivery) };
}

/** A reply that says the message waits for someone to sign in to the smart host (remote-delivery.ts). */
const WAITS_FOR_SIGN_IN = /^4\d\d 4\.7\.0 (Sign-in to the smart host needed|No OAuth2 token yet|The smart host refused the sign-in)/;

/** The state an admin understands, from the record: never from hope. */
export function queueStatus(m: QueueEntry): QueueStatus {
  if (m.state === 'frozen') return 'frozen';
  if (m.state === 'done') return m.recipients.some((r) => r.state === 'failed') ? 'failed' : 'delivered';
  const open = m.recipients.filter((r) => r.state === 'queued');
  if (open.some((r) => WAITS_FOR_SIGN_IN.test(r.lastReply ?? ''))) return 'waiting-for-sign-in';
  return open.some((r) => r.attempts > 0) ? 'retrying' : 'queued';
}

function queueSummary(m: QueueEntry): QueueSummary {
  return {
    id: m.id, server: m.serverName, receivedAt: m.receivedAt, from: m.mailFrom, size: m.size, state: m.state, status: queueStatus(m), body: m.body, finishedAt: m.finishedAt,
    recipients: m.recipients.map((r) => ({ address: r.address, route: r.route, state: r.state, attempts: r.attempts, lastReply: r.lastReply, explanation: r.state === 'delivered' ? null : explainUpstreamReply(r.lastReply) })),
  };
}

/**
 * A null secret sent back by the console means "keep the stored one", but only where it would go
 * exactly where it was entered for: the smart host password needs the same host, port, TLS mode,
 * certificate checking, trusted certificate and user; the OAuth2 client secret the same provider,
 * tenant, endpoints and client. Otherwise the admin must type it again (a console session must
 * not be able to send a stored secret to a listener of its own choosing).
 */
function keepStoredSecrets(patch: VirtualServerPatch, current: VirtualServerConfig): VirtualServerPatch {
  const delivery = patch.delivery;
  if (!delivery) return patch;
  const next: Record<string, unknown> = { ...delivery };
  if (delivery.smartHost) next.smartHost = keepHostSecret(delivery.smartHost as SmartHostInput, current.delivery.smartHost, 'delivery.smartHost');
  if (Array.isArray(delivery.routes)) {
    next.routes = delivery.routes.map((route, i) => {
      const stored = current.delivery.routes.find((r) => r.name.toLowerCase() === String(route.name ?? '').trim().toLowerCase())?.smartHost ?? null;
      return route.smartHost ? { ...route, smartHost: keepHostSecret(route.smartHost as SmartHostInput, stored, `delivery.routes[${i}].smartHost`) } : route;
    });
  }
  return { ...patch, delivery: next as VirtualServerPatch['delivery'] };
}

/** keepStoredSecrets for one smart host (the server's, or a route's, matched by name). */
function keepHostSecret(next: SmartHostInput, stored: VirtualServerConfig['delivery']['smartHost'], field: string): SmartHostInput {
  if (!stored) return next;
  const changed = (fields: Array<[string, unknown, unknown]>) => fields.filter(([, a, b]) => (a ?? null) !== (b ?? null)).map(([name]) => name);
  let password = next.password ?? null;
  if (password === null && stored.password !== null && next.authentication === 'basic') {
    const moved = changed([
      ['host', String(next.host ?? '').replace(/^\[(.*)\]$/, '$1').trim().toLowerCase(), stored.host.toLowerCase()], ['port', next.port, stored.port],
      ['security', next.security, stored.security], ['certificate checking', next.verifyCertificate, stored.verifyCertificate],
      ['trusted certificate', next.trustedCertificate, stored.trustedCertificate], ['user', next.user, stored.user],
    ]);
    if (moved.length > 0) {
      throw new AdminError('invalid', `the smart host's ${moved.join(', ')} changed: enter the password again (a stored password is only ever sent where it was entered for)`, `${field}.password`);
    }
    password = stored.password;
  }
  let oauth2 = next.oauth2 ?? null;
  if (oauth2 && stored.oauth2 && (oauth2.clientSecret ?? null) === null && !oauth2.certificate && stored.oauth2.clientSecret !== null) {
    const parsed = oauth2SettingsSchema.safeParse(oauth2);
    const before = oauthEndpoints(stored.oauth2);
    const after = parsed.success ? oauthEndpoints(parsed.data) : null;
    const moved = changed([
      ['provider', oauth2.provider, stored.oauth2.provider], ['tenant', oauth2.tenant ?? 'organizations', stored.oauth2.tenant], ['client ID', oauth2.clientId, stored.oauth2.clientId],
      ['token endpoint', after?.token, before.token], ['authorization endpoint', after?.authorization, before.authorization], ['device endpoint', after?.device, before.device],
    ]);
    if (moved.length > 0) {
      throw new AdminError('invalid', `the OAuth2 ${moved.join(', ')} changed: enter the client secret again (a stored secret is only ever sent where it was entered for)`, `${field}.oauth2.clientSecret`);
    }
    oauth2 = { ...oauth2, clientSecret: stored.oauth2.clientSecret };
  }
  return { ...next, password, oauth2 };
}

export function createAdminHandlers(app: App): AdminApiHandlers {
  const { store, engine } = app;

  const serverSummaries = (): ServerSummary[] => {
    const status = new Map(engine.status().map((s) => [s.name, s]));
    return store.listServers().map((config) => {
      const s = status.get(config.name);
      return { config: withoutSecrets(config), running: s?.running ?? false, paused: s?.paused ?? false, listening: s?.listening ?? [], bindFailures: s?.lastBindFailure ?? [], bindRetrySeconds: s?.bindRetrySeconds ?? null, sessions: s?.sessions ?? 0 };
    });
  };

  // The certificate service already gathers the description, days left and the servers using it.
  const certificateSummary = (name: string): Promise<CertificateSummary> => app.certificates.show(name);

  const listenerOf = (name: string) => {
    const summary = serverSummaries().find((s) => s.config.name.toLowerCase() === name.toLowerCase());
    if (!summary) throw new AdminError('not-found', `no virtual server named "${name}"`, 'server');
    const listener = summary.listening.find((l) => l.mode === 'starttls');
    if (!listener) throw new AdminError('unavailable', `virtual server "${summary.config.name}" is not running; start it first`, 'server');
    const host = summary.config.bindAddress === 'all' ? '127.0.0.1' : summary.config.bindAddress;
    return { config: summary.config, host, port: listener.port };
  };

  return {
    'servers.list': async () => serverSummaries(),
    'servers.get': async ({ name }) => withoutSecrets(store.getServer(name)),
    'servers.create': async ({ server }) => {
      const created = store.createServer(server);
      await engine.reconcile();
      return withoutSecrets(created);
    },
    'servers.update': async ({ name, patch }) => {
      const updated = store.updateServer(name, keepStoredSecrets(patch, store.getServer(name)));
      await engine.reconcile();
      return withoutSecrets(updated);
    },
    'servers.dependents': async ({ name }) => {
      const config = store.getServer(name);
      return store.serverDependents(config.name);
    },
    'servers.delete': async ({ name }) => {
      // As in IIS: the server goes with its queue (bodies and records) and its log history.
      const config = store.getServer(name);
      await engine.setState(config.name, 'stopped').catch(() => undefined);
      for (const id of store.messageIdsOf(config.name)) await app.remoteDelivery.deleteMessage(id, false).catch(() => undefined);
      store.deleteServer(config.name);
      store.deleteEventsOf(config.name);
      await engine.reconcile();
      return null;
    },
    'servers.setState': async ({ name, state }) => {
      await engine.setState(name, state);
      const summary = serverSummaries().find((s) => s.config.name.toLowerCase() === name.toLowerCase());
      if (!summary) throw new AdminError('not-found', `no virtual server named "${name}"`, 'name');
      return summary;
    },
    'servers.validateRule': async ({ text }) => parseOrThrow(addressRuleSchema, parseAddressRuleText(text), 'text'),

    'users.list': async () => store.listUsers().map(userSummary),
    'users.add': async ({ name, password, senders, cramMd5 }) => {
      await app.addUser(name, password, { senders, cramMd5 });
      return userSummary(store.findUser(name) as StoredUser);
    },
    'users.update': async ({ name, enabled, senders, password, cramMd5, perHour, recipientsPerDay }) => {
      if (!store.findUser(name)) throw new AdminError('not-found', `no user named "${name}"`, 'name');
      if (cramMd5 === true && !password && !store.findUser(name)?.cramSecret) {
        throw new AdminError('invalid', 'enabling CRAM-MD5 needs the password (its HMAC-MD5 contexts are derived from it)', 'password');
      }
      if (password) await app.setPassword(name, password);
      store.updateUser(name, {
        ...(enabled === undefined ? {} : { enabled }),
        ...(senders === undefined ? {} : { senders }),
        ...(perHour === undefined ? {} : { perHour }),
        ...(recipientsPerDay === undefined ? {} : { recipientsPerDay }),
        ...(cramMd5 === false ? { cramSecret: null } : cramMd5 === true && password ? { cramSecret: cramMd5Contexts(password) } : {}),
      });
      return userSummary(store.findUser(name) as StoredUser);
    },
    'users.remove': async ({ name }) => {
      store.removeUser(name);
      return null;
    },

    'domains.list': async () => store.listAcceptedDomains(),
    'domains.add': async (domain) => {
      const added = store.addAcceptedDomain(domain);
      await engine.reconcile();
      return added;
    },
    'domains.remove': async ({ domain }) => {
      store.removeAcceptedDomain(domain);
      await engine.reconcile();
      return null;
    },

    'certificates.list': async () => app.certificates.list(),
    'certificates.createSelfSigned': async ({ name, commonName, altNames, days, assignTo }) => {
      await app.certificates.create(name, { commonName, altNames, days }, assignTo);
      await engine.reconcile();
      return certificateSummary(name);
    },
    'certificates.importPem': async ({ name, keyPem, certPem, allowExpired, assignTo }) => {
      await app.certificates.importPem(name, keyPem, certPem, { allowExpired, assignTo });
      await engine.reconcile();
      return certificateSummary(name);
    },
    'certificates.request': async ({ name, commonName, altNames, key }) => ({ csrPem: await app.certificates.request(name, { commonName, altNames, key }) }),
    'certificates.requests': async () => store.listCertificateRequests().map(({ keyPem: _key, ...request }) => request),
    'certificates.complete': async ({ name, answer, assignTo }) => {
      await app.certificates.complete(name, answer, { assignTo });
      await engine.reconcile();
      return certificateSummary(name);
    },
    'certificates.cancelRequest': async ({ name }) => {
      store.removeCertificateRequest(name);
      return null;
    },
    'certificates.importPfx': async ({ name, pfxBase64, password, allowExpired, assignTo }) => {
      await app.certificates.importPfx(name, Buffer.from(pfxBase64, 'base64'), password, { allowExpired, assignTo });
      await engine.reconcile();
      return certificateSummary(name);
    },
    'certificates.exportPem': async ({ name }) => app.certificates.exportPem(name, 'full'),
    'certificates.remove': async ({ name }) => {
      store.removeCertificate(name);
      return null;
    },

    'queue.list': async ({ state, status, destination, limit, after, offset }) => {
      const page = store.queuePage({ ...(state ? { state } : {}), ...(status ? { status } : {}), ...(destination ? { destination } : {}) }, limit, after ?? null, offset ?? 0);
      const counts = store.queueDepth().byState;
      // The state counts come from the index; a status or destination filter would need a walk of the queue.
      const total = status || destination ? null : state ? counts[state] : counts.queued + counts.frozen + counts.done;
      return { messages: page.entries.map(queueSummary), next: page.next, total, counts };
    },

    'queue.show': async ({ id }) => {
      const m = store.requireMessage(id);
      return {
        ...queueSummary(m), clientAddress: m.clientAddress, authUser: m.authUser,
        nextAttempts: Object.fromEntries(m.recipients.map((r) => [r.address, r.nextAttemptAt])),
        headers: m.body === 'removed' ? '(delivered: the message body was removed; only its record is kept)' : await readMessageHeaders(m).catch(() => '(the spool file is gone)'),
      };
    },
    'queue.source': async ({ id }) => {
      const m = store.requireMessage(id);
      if (m.body === 'removed') throw new AdminError('not-found', `message ${id} was delivered and its body removed; turn on "Keep a copy of delivered messages" to keep copies`, 'id');
      return { id: m.id, body: m.body, ...(await readMessageSource(m, SOURCE_LIMIT_BYTES)) };
    },
    'queue.action': async ({ id, action }) => {
      if (action === 'delete' || action === 'delete-with-report') await app.remoteDelivery.deleteMessage(id, action === 'delete-with-report');
      else {
        store.setMessageState(id, action);
        app.remoteDelivery.wake();
      }
      return null;
    },
    'log.query': async (filter) => app.eventLog.query(filter).map((e) => ({ ...e, user: e.user ?? null })),
    'log.transcript': async ({ session }) => app.eventLog.transcript(session),
    'log.export': async ({ format, filter }) => {
      const events = app.eventLog.query({ ...filter, oldestFirst: true });
      if (format === 'csv') return toCsv(events);
      const bind = new Map(store.listServers().map((s) => [s.name, s.bindAddress === 'all' ? '-' : s.bindAddress]));
      return toW3c(events, { computerName: os.hostname(), serverAddress: (server) => bind.get(server) ?? '-' }, app.clock());
    },
    'log.getSettings': async () => app.eventLog.settings(),
    'log.setSettings': async (settings) => app.eventLog.setSettings(settings),

    'sessions.list': async () => engine.servers().flatMap((server) => server.liveSessions()),
    'sessions.terminate': async ({ server, id }) => ({ terminated: engine.server(server)?.terminate(id) ?? false }),

    'counters.get': async () => app.counters.read(),
    'status.warnings': async () => app.activeWarnings(),

    'policy.simulate': async (input) => {
      const config = input.draft ?? store.getServer(input.server);
      const policy = compilePolicy(config, store.listAcceptedDomains().map((d) => d.domain));
      const user = input.user ? store.findUser(input.user) : null;
      if (input.user && !user) throw new AdminError('invalid', `no user named "${input.user}"`, 'user');
      return simulateSession(policy, {
        address: input.address,
        reverseName: input.reverseName ? { status: 'confirmed', name: input.reverseName } : { status: 'none' },
        user: user ? { name: user.name, senders: user.senders } : null,
        tls: input.tls,
        mailFrom: input.mailFrom,
        rcptTo: input.rcptTo,
      });
    },
    'probe.run': async ({ server, user, password, sourceAddress }) => {
      const target = listenerOf(server);
      const source = sourceAddress ? parseOrThrow(ipAddressSchema, sourceAddress, 'sourceAddress') : undefined;
      const device = source ? matchTrustedDevice(compilePolicy(target.config, []), source) : null;
      return runSelfProbe({ ...target, user, password, ...(source ? { sourceAddress: source } : {}), device });
    },

    'smarthost.fetchCertificate': async ({ server }) => {
      const { pinned: _pinned, ...presented } = await presentedSmartHostCertificate(store, server);
      return presented;
    },
    'smarthost.trust': async ({ server, fingerprint }) => trustSmartHostCertificate(store, server, fingerprint),
    'smarthost.status': async ({ server }) => app.smartHostTokens.status(server),
    'smarthost.signIn': async ({ server }) => app.smartHostTokens.startSignIn(server),
    'smarthost.signOut': async ({ server }) => app.smartHostTokens.signOut(server),
    'import.iisPreview': async ({ content }) => {
      const plan = planIisImport(store, content);
      return {
        servers: plan.servers.map((s) => ({ name: s.config.name, listen: `${s.config.bindAddress === 'all' ? '(All Unassigned)' : s.config.bindAddress}:${s.config.port}`, risk: s.risk })),
        domains: plan.acceptedDomains, rows: plan.rows,
      };
    },
    'import.iisScript': async () => fs.promises.readFile(path.join(packageRoot(), 'server', 'import', 'iis-export.ps1'), 'utf8'),
    'import.iisApply': async ({ content, confirmRisks }) => {
      const { created } = applyIisImport(store, content, { confirmRisks });
      await engine.reconcile();
      return { created };
    },
    'route.test': async ({ server, route, to }) => {
      const config = store.getServer(server);
      const found = route === null ? null : config.delivery.routes.find((r) => r.name.toLowerCase() === route.toLowerCase());
      if (route !== null && !found) throw new AdminError('not-found', `virtual server "${config.name}" has no route named "${route}"`, 'route');
      return testRoute({ store, tokens: app.smartHostTokens, now: () => app.clock() }, found ? routeView(config, found) : config, found?.name ?? 'default', to);
    },
    'config.export': async () => store.exportConfig({ withSecrets: false }),
    'config.import': async ({ document, merge }) => {
      const first = store.listServers()[0];
      const fqdn = first?.fqdn ?? defaultFqdn();
      // New servers get the first server's certificate; on a folder without any, a self-signed one
      // made now and written in the same transaction as the rest (a refused import leaves nothing).
      const known = first?.certificate ?? firstCertificateOf(document) ?? store.listCertificates()[0]?.name ?? null;
      const made = known === null ? await app.selfSignedFor(fqdn) : null;
      const complete = completeConfigDocument(document, store.exportConfig({ withSecrets: true }), {
        merge,
        newServer: (serverName) => newServerDefaults({ name: serverName, fqdn, certificate: known ?? made?.name ?? null }),
      }) as { servers: Array<{ certificate?: unknown }>; certificates: unknown[] };
      if (made && complete.servers.some((s) => s.certificate === made.name)) {
        complete.certificates = [...complete.certificates, { name: made.name, certPem: made.certPem, chainPem: made.chainPem, keyPem: made.keyPem }];
      }
      store.importConfig(complete, inspectCertificate);
      await engine.reconcile();
      return { servers: store.listServers().map((s) => s.name) };
    },
    'dns.checkFqdn': async ({ name }) => checkFqdn(store.getServer(name).fqdn),
    'dns.lookup': async ({ hostname }) => {
      // The system resolver, as Check DNS and every other program on this machine (hosts file included).
      const found = await dnsPromises.lookup(hostname, { all: true }).catch(() => []);
      if (found.length === 0) throw new AdminError('not-found', `${hostname} does not resolve on this machine (system resolver, hosts file included)`, 'hostname');
      return [...new Set(found.map((a) => a.address))];
    },
    'dns.mx': async ({ domain }) => {
      const hosts = await resolveDestinations(domain, store.listServers()[0]?.delivery.dnsServers ?? []).catch((err: Error & { code?: string }) => {
        throw new AdminError('unavailable', `the DNS lookup for ${domain} failed (${err.code ?? err.message})`, 'domain');
      });
      return hosts.map((h) => ({ host: h.host, addresses: h.addresses }));
    },
    'system.addresses': async () => Object.entries(os.networkInterfaces()).flatMap(([name, list]) => (list ?? []).map((i) => ({
      address: i.address.replace(/%.*$/, ''), family: i.family === 'IPv6' ? 'IPv6' as const : 'IPv4' as const, interface: name, internal: i.internal,
    }))),
  };
}

/** The name of the first certificate in a (partial) document, the certificate of its new servers when none is configured yet. */
function firstCertificateOf(document: unknown): string | null {
  const certificates = (document as { certificates?: Array<{ name?: unknown }> } | null)?.certificates;
  const name = Array.isArray(certificates) ? certificates[0]?.name : undefined;
  return typeof name === 'string' ? name : null;
}
