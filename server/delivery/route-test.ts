// "Test route": sign in to a route's provider and send one small message to an address the admin
// types, step by step, outside the queue, saying what each step saw and (for known replies) what
// to do. The same transports as delivery: nodemailer's SMTP client, Graph sendMail, MX lookup.
import crypto from 'node:crypto';
import nodemailer from 'nodemailer';
import type { RouteTestReport, RouteTestStep } from '../contract/admin-api';
import { GRAPH_URL, type VirtualServerConfig } from '../contract/settings';
import { explainUpstreamReply } from '../contract/upstream-replies';
import { resolveDestinations } from '../dns/mx';
import type { SmartHostTokens } from '../oauth/smart-host-tokens';
import type { Store } from '../store/store';
import { sendViaGraph } from './graph-send';
import { smartHostTlsOptions } from './smart-host-certificate';

export interface RouteTestDeps { store: Store; tokens: Pick<SmartHostTokens, 'accessToken' | 'invalidate'>; now(): Date }

function step(title: string, ok: boolean, detail: string): RouteTestStep {
  const explanation = ok ? null : explainUpstreamReply(detail);
  return { title, ok, detail, explanation };
}

/** The test message: plain text, From the route's mailbox (or postmaster at the server's name). */
function testMessage(view: VirtualServerConfig, from: string, to: string, routeName: string, now: Date): Buffer {
  return Buffer.from([
    `From: <${from}>`, `To: <${to}>`, `Subject: Relaydesk test through ${routeName}`, `Date: ${now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${crypto.randomUUID()}@${view.fqdn}>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '',
    `This message was sent by Relaydesk (${view.fqdn}) to test the route "${routeName}" of ${view.name}.`, '',
  ].join('\r\n'));
}

/** Run the test on a server, or one of its routes, seen as a server (routeView). */
export async function testRoute(deps: RouteTestDeps, view: VirtualServerConfig, routeName: string, to: string): Promise<RouteTestReport> {
  const steps: RouteTestStep[] = [];
  const host = view.delivery.smartHost;
  const from = host?.user && host.user.includes('@') ? host.user : `postmaster@${view.fqdn}`;
  const message = testMessage(view, from, to, routeName, deps.now());
  const done = () => ({ server: view.name, route: routeName, to, steps, passed: steps.every((s) => s.ok) });
  const timeout = view.delivery.outboundTimeoutSeconds * 1000;

  let accessToken: string | null = null;
  if (host?.authentication === 'oauth2') {
    try {
      // A real sign-in, not a token cached from earlier mail: the test must see what the provider says now.
      deps.tokens.invalidate(view.name);
      accessToken = await deps.tokens.accessToken(view);
      steps.push(step(`Sign in to ${host.oauth2?.provider === 'microsoft365' ? 'Microsoft 365' : host.oauth2?.provider ?? 'the provider'} as ${host.user ?? '?'}`, true, `${host.oauth2?.flow === 'app' ? 'app-only' : 'delegated'} access token obtained`));
    } catch (err) {
      steps.push(step(`Sign in as ${host.user ?? '?'}`, false, (err as Error).message));
      return done();
    }
  }

  if (host?.transport === 'graph') {
    const outcome = await sendViaGraph({ graphUrl: host.graphUrl ?? GRAPH_URL, mailbox: host.user ?? '', accessToken: accessToken ?? '', message, recipients: [to], timeoutMs: timeout, now: deps.now });
    steps.push(step(`Send a test message to ${to} through Microsoft Graph`, outcome.kind === 'delivered', outcome.reply));
    return done();
  }

  let target: { host: string; port: number; secure: boolean; requireTLS: boolean; ignoreTLS: boolean; tls: object; name: string };
  if (host) {
    const clientCertificate = host.clientCertificate ? deps.store.findCertificate(host.clientCertificate) : null;
    target = {
      host: host.host, port: host.port, secure: host.security === 'tls', requireTLS: host.security === 'starttls', ignoreTLS: host.security === 'none', name: `smart host ${host.host}:${host.port}`,
      tls: { ...smartHostTlsOptions(host), ...(clientCertificate ? { cert: clientCertificate.certPem + clientCertificate.chainPem, key: clientCertificate.keyPem } : {}) },
    };
  } else {
    const domain = to.slice(to.lastIndexOf('@') + 1);
    try {
      const hosts = await resolveDestinations(domain, view.delivery.dnsServers);
      const first = hosts[0];
      if (!first?.addresses[0]) {
        steps.push(step(`Find the mail server of ${domain}`, false, `550 5.1.2 ${domain} has no mail server (no MX, A or AAAA record)`));
        return done();
      }
      steps.push(step(`Find the mail server of ${domain}`, true, hosts.map((h) => `${h.host} (${h.addresses.join(', ')})`).join('; ')));
      target = { host: first.addresses[0], port: view.delivery.outboundPort, secure: false, requireTLS: false, ignoreTLS: false, name: `${first.host} [${first.addresses[0]}]`, tls: { rejectUnauthorized: false, servername: first.host, minVersion: 'TLSv1.2' } };
    } catch (err) {
      steps.push(step(`Find the mail server of ${domain}`, false, `DNS lookup failed (${(err as { code?: string }).code ?? (err as Error).message})`));
      return done();
    }
  }
  const auth = host?.authentication === 'basic' && host.user ? { user: host.user, pass: host.password ?? '' }
    : host?.authentication === 'oauth2' && host.user && accessToken ? { type: 'OAuth2' as const, user: host.user, accessToken } : undefined;
  const transport = nodemailer.createTransport({
    host: target.host, port: target.port, secure: target.secure, requireTLS: target.requireTLS, ignoreTLS: target.ignoreTLS, name: view.fqdn, auth,
    connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout, tls: target.tls, logger: false,
  });
  try {
    await transport.verify();
    steps.push(step(`Connect to ${target.name}${target.requireTLS || target.secure ? ' with TLS' : ''}${auth ? ` and sign in as ${auth.user}` : ''}`, true, 'the server accepted the connection' + (auth ? ' and the sign-in' : '')));
  } catch (err) {
    const e = err as { response?: string; message: string };
    steps.push(step(`Connect to ${target.name}${auth ? ` and sign in as ${auth.user}` : ''}`, false, (e.response ?? e.message).trim()));
    transport.close();
    return done();
  }
  try {
    const info = await transport.sendMail({ envelope: { from, to: [to] }, raw: message });
    steps.push(step(`Send a test message to ${to}`, info.accepted.length > 0, info.response));
  } catch (err) {
    const e = err as { response?: string; message: string };
    steps.push(step(`Send a test message to ${to}`, false, (e.response ?? e.message).trim()));
  } finally {
    transport.close();
  }
  return done();
}
