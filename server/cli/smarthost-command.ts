// `relaydesk smarthost ...` and `relaydesk dns ...`: outbound delivery of a virtual server
// (Properties → Delivery) from the command line, through the AdminApi; the OAuth2 sign-in runs
// here and a running serve sees it through the store.
import { GRAPH_URL, graphScope, OAUTH_PROVIDERS, signInKey, SMART_HOST_PRESETS, type SmartHostPreset, type VirtualServerConfig } from '../contract/settings';
import { AdminError } from '../contract/errors';
import type { SmartHostSignInStatus } from '../contract/admin-api';
import { resolveDestinations } from '../dns/mx';
import { presentedSmartHostCertificate } from '../delivery/smart-host-certificate';
import { type CliContext, type CommandGroup, integerOption, need, stringOption, UsageError } from './shared';

function printStatus(status: SmartHostSignInStatus, context: CliContext): void {
  context.io.out([
    `Server:        ${status.server}`, `Provider:      ${status.provider} (${status.flow === 'app' ? 'app-only' : `${status.flow} sign-in`})`,
    `Account:       ${status.account ?? '-'}`,
    `State:         ${status.needsSignIn ? 'SIGN-IN NEEDED' : status.signedIn ? 'signed in' : 'not signed in'}`,
    `Signed in:     ${status.signedInAt ?? '-'}`, `Last refresh:  ${status.lastRefreshAt ?? '-'}`,
    `Token expires: ${status.accessTokenExpiresAt ?? '-'}`, `Last error:    ${status.lastError ?? '-'}`,
    `Secrets in:    ${status.secretStore}`,
  ].join('\n'));
}

type HostInput = Record<string, unknown> | null;

/** The smart host being changed: the server's own, or with --route NAME that route's. */
async function currentHost(context: CliContext, server: string): Promise<VirtualServerConfig['delivery']['smartHost']> {
  const config = await context.admin().call('servers.get', { name: server });
  const route = stringOption(context.values, 'route');
  if (route === undefined) return config.delivery.smartHost;
  return routeOf(config, route).smartHost;
}

function routeOf(config: VirtualServerConfig, name: string): VirtualServerConfig['delivery']['routes'][number] {
  const route = config.delivery.routes.find((r) => r.name.toLowerCase() === name.trim().toLowerCase());
  if (!route) throw new AdminError('not-found', `virtual server "${config.name}" has no route named "${name}" (see: relaydesk route list "${config.name}")`, 'route');
  return route;
}

/** Save the smart host (null: directly by MX) as the server's own, or with --route as that route's transport. */
async function saveHost(context: CliContext, server: string, smartHost: HostInput): Promise<void> {
  const admin = context.admin();
  const route = stringOption(context.values, 'route');
  if (route === undefined) {
    await admin.call('servers.update', { name: server, patch: { delivery: { smartHost } } });
    return;
  }
  const config = await admin.call('servers.get', { name: server });
  const target = routeOf(config, route);
  const routes = config.delivery.routes.map((r) => (r === target ? { ...r, smartHost } : r));
  await admin.call('servers.update', { name: config.name, patch: { delivery: { routes } } });
}

async function set(server: string, context: CliContext): Promise<number> {
  const { values } = context;
  const preset = stringOption(values, 'preset') ?? null;
  if (preset !== null && !(preset in SMART_HOST_PRESETS)) throw new UsageError(`--preset takes ${Object.keys(SMART_HOST_PRESETS).join(', ')}`);
  const base = preset ? SMART_HOST_PRESETS[preset as SmartHostPreset] : null;
  let host = stringOption(values, 'host') ?? (base?.host || undefined);
  if (!host && preset === 'microsoft365-connector') host = await tenantMxHost(need(stringOption(values, 'domain'), 'the tenant\'s domain: --domain contoso.com (its MX is the connector\'s host)'), context);
  if (!host) throw new UsageError('give --host (the preset "isp" needs it too)');
  const user = stringOption(values, 'user') ?? null;
  if (user && !values['password-stdin']) throw new UsageError('with --user, give the password on standard input: --password-stdin');
  const password = user ? await context.secretFromStdin() : null;
  await saveHost(context, server, {
    host, port: integerOption(values, 'port', 1, 65535) ?? base?.port ?? 587,
    security: stringOption(values, 'security') ?? base?.security ?? 'starttls',
    verifyCertificate: !values['no-verify'], authentication: user ? 'basic' : 'none', user, password,
    clientCertificate: stringOption(values, 'client-certificate') ?? null,
    maxMessagesPerMinute: base?.caps.maxMessagesPerMinute ?? null, maxRecipientsPerDay: base?.caps.maxRecipientsPerDay ?? null,
  });
  context.io.out(`relaydesk: ${server} sends mail for other domains through ${host}${user ? ` as ${user}` : ''}`);
  if (base) context.io.out(`On the provider's side: ${base.setup}`);
  return 0;
}

/** The Microsoft 365 MX host of a domain (contoso-com.mail.protection.outlook.com): where a connector receives. */
async function tenantMxHost(domain: string, context: CliContext): Promise<string> {
  const hosts = await resolveDestinations(domain, context.admin().app.store.listServers()[0]?.delivery.dnsServers ?? []);
  const microsoft = hosts.find((h) => /\.mail\.protection\.(outlook\.com|outlook\.de|partner\.outlook\.cn|office365\.us)$/i.test(h.host));
  if (!microsoft) throw new AdminError('not-found', `${domain}'s MX is not Microsoft 365 (found ${hosts.map((h) => h.host).join(', ') || 'no mail server'}); give --host TENANT.mail.protection.outlook.com`, 'domain');
  return microsoft.host;
}

/** `smarthost graph`: Microsoft Graph sendMail with an app-only sign-in (client secret or certificate). */
async function graph(server: string, context: CliContext): Promise<number> {
  const { values } = context;
  const tenant = stringOption(values, 'tenant');
  if (!tenant) throw new UsageError('give --tenant (the directory (tenant) ID or your domain, e.g. contoso.onmicrosoft.com)');
  const clientId = stringOption(values, 'client-id');
  if (!clientId) throw new UsageError('give --client-id (the application (client) ID of the app registration)');
  const mailbox = stringOption(values, 'mailbox');
  if (!mailbox) throw new UsageError('give --mailbox: the mailbox Graph sends as');
  const certificate = stringOption(values, 'certificate') ?? null;
  const delegated = stringOption(values, 'delegated');
  if (delegated !== undefined && delegated !== 'device' && delegated !== 'browser') throw new UsageError('--delegated takes device or browser (the mailbox signs in; Mail.Send delegated permission)');
  if (delegated === undefined && Boolean(values['client-secret-stdin']) === (certificate !== null)) throw new UsageError('give exactly one of --client-secret-stdin and --certificate NAME (app-only), or --delegated device|browser');
  if (delegated !== undefined && certificate !== null) throw new UsageError('--certificate is for app-only sign-in; with --delegated the mailbox signs in');
  const flow = delegated ?? 'app';
  const clientSecret = values['client-secret-stdin'] ? await context.secretFromStdin() : null;
  const graphUrl = loopbackOrHttps(stringOption(values, 'graph-url') ?? GRAPH_URL, '--graph-url');
  const loginUrl = loopbackOrHttps(stringOption(values, 'login-url') ?? 'https://login.microsoftonline.com', '--login-url');
  const admin = context.admin();
  if (certificate) await admin.call('certificates.exportPem', { name: certificate });
  const url = new URL(graphUrl);
  await saveHost(context, server, {
    transport: 'graph', graphUrl: graphUrl === GRAPH_URL ? null : graphUrl,
    host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)), security: 'tls', verifyCertificate: true,
    authentication: 'oauth2', user: mailbox, password: null, trustedCertificate: null, clientCertificate: null,
    maxMessagesPerMinute: integerOption(values, 'per-minute', 1, 100_000) ?? 30, maxRecipientsPerDay: integerOption(values, 'recipients-per-day', 1, 100_000_000) ?? 10_000,
    oauth2: {
      provider: 'microsoft365', tenant, clientId, flow, clientSecret, certificate,
      authority: loginUrl === 'https://login.microsoftonline.com' ? null : loginUrl, scope: graphScope(graphUrl, flow),
    },
  });
  context.io.out(`relaydesk: ${server} sends mail for other domains through Microsoft Graph as ${mailbox} (${flow === 'app' ? `app-only, ${certificate ? `certificate ${certificate}` : 'client secret'}` : `signed in as the mailbox, ${flow} sign-in`}); check it with: relaydesk smarthost signin "${server}"${stringOption(values, 'route') ? ` --route "${stringOption(values, 'route')}"` : ''}`);
  context.io.out(`On the provider's side: Entra admin center → App registrations → the app → API permissions → Microsoft Graph → ${flow === 'app' ? 'Application' : 'Delegated'} permissions → Mail.Send → Grant admin consent` +
    `${certificate ? '; Certificates & secrets → Certificates → Upload the certificate (relaydesk cert export NAME)' : ''}. Limit the app to this mailbox with an application access policy (New-ApplicationAccessPolicy) or RBAC for Applications.`);
  return 0;
}

/** https, or http on this machine only (a sovereign cloud's address, or a test's fake). */
function loopbackOrHttps(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${option} takes a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))) {
    throw new UsageError(`${option} must be https (http only on this machine: http://127.0.0.1:PORT)`);
  }
  return url.toString().replace(/\/+$/, '');
}

async function oauth(server: string, context: CliContext): Promise<number> {
  const { values } = context;
  const provider = stringOption(values, 'provider') ?? '';
  if (!['microsoft365', 'google', 'custom'].includes(provider)) throw new UsageError('--provider takes microsoft365, google or custom');
  const clientId = stringOption(values, 'client-id');
  if (!clientId) throw new UsageError('give --client-id (the application ID of your app registration)');
  const user = stringOption(values, 'user');
  if (!user) throw new UsageError('give --user: the mailbox that signs in and sends');
  const flow = stringOption(values, 'flow') ?? (provider === 'google' ? 'browser' : 'device');
  if (!['browser', 'device', 'app'].includes(flow)) throw new UsageError('--flow takes browser, device or app');
  const clientSecret = values['client-secret-stdin'] ? await context.secretFromStdin() : null;
  const current = await currentHost(context, server);
  const preset = provider === 'custom' ? null : OAUTH_PROVIDERS[provider as 'microsoft365' | 'google'].smartHost;
  const host = stringOption(values, 'host') ?? preset?.host ?? current?.host;
  if (!host) throw new UsageError('a custom provider needs --host (the smart host)');
  const str = (key: string) => stringOption(values, key) ?? null;
  await saveHost(context, server, {
    host, port: integerOption(values, 'port', 1, 65535) ?? preset?.port ?? current?.port ?? 587,
    security: stringOption(values, 'security') ?? (current?.security === 'tls' ? 'tls' : 'starttls'),
    verifyCertificate: !values['no-verify'], authentication: 'oauth2', user, password: null,
    trustedCertificate: current?.host === host ? current.trustedCertificate : null,
    // A null client secret keeps the stored one, only where it goes to the same provider and client (admin.ts).
    oauth2: {
      provider, clientId, flow, ...(str('tenant') ? { tenant: str('tenant') } : {}), clientSecret,
      authorizationEndpoint: str('auth-url'), tokenEndpoint: str('token-url'), deviceEndpoint: str('device-url'), revocationEndpoint: str('revoke-url'), scope: str('scope'),
    },
  });
  context.io.out(`relaydesk: ${server} signs in to ${host} with OAuth2 (${provider}, ${flow === 'app' ? 'app-only' : `${flow} sign-in`}) as ${user}; now run: relaydesk smarthost signin "${server}"`);
  return 0;
}

async function signIn(server: string, context: CliContext): Promise<number> {
  const tokens = context.admin().app.smartHostTokens;
  const status = await tokens.signIn(server, {
    onUrl: (url) => context.io.out(`Open this address in a browser on this computer and sign in as the mailbox:\n\n  ${url}\n\nWaiting for the sign-in (15 minutes at most)...`),
    onPrompt: (p) => context.io.out(`On any device, open ${p.verificationUri} and enter the code:\n\n  ${p.userCode}\n\nWaiting until ${p.expiresAt}...`),
  });
  context.io.out(`relaydesk: ${status.server} signed in as ${status.account ?? '?'}; access token valid until ${status.accessTokenExpiresAt ?? '?'}; waiting mail is tried now`);
  return 0;
}

export const SMARTHOST_COMMANDS: CommandGroup = {
  names: ['smarthost', 'dns'],
  usage: `  smarthost set SERVER (--preset ${Object.keys(SMART_HOST_PRESETS).join('|')} | --host HOST) [--port N]
         [--security starttls|tls|none] [--user NAME --password-stdin] [--no-verify]
  smarthost clear SERVER                   deliver directly by MX again
  smarthost set SERVER --preset microsoft365-connector --domain DOMAIN [--client-certificate NAME]
                                        Microsoft 365 connector relay: the domain's MX on port 25 (static IP or certificate)
  smarthost graph SERVER --tenant TENANT --client-id ID (--client-secret-stdin | --certificate NAME) --mailbox ADDR
         [--login-url URL] [--graph-url URL] [--per-minute N] [--recipients-per-day N]
         (or --delegated device|browser instead of a secret or certificate: the mailbox signs in)
                                        send through Microsoft Graph (works with SMTP AUTH off), app-only
  smarthost oauth SERVER --provider microsoft365|google|custom --client-id ID --user MAILBOX
         [--tenant TENANT] [--flow browser|device|app] [--client-secret-stdin]
         [--auth-url URL --token-url URL --device-url URL --revoke-url URL --scope SCOPE] [--host HOST --port N]
                                        sign in upstream with OAuth2 (XOAUTH2) instead of a password
  smarthost signin SERVER                  run the sign-in: prints the URL to open or the code to enter
  smarthost status SERVER | smarthost signout SERVER
  smarthost certificate SERVER             the certificate the smart host presents, with its SHA-256 fingerprint
  smarthost trust SERVER (--fingerprint SHA256 | --clear)
                                        trust exactly that certificate (self-signed or private CA), or stop
  dns check-fqdn SERVER | dns mx DOMAIN     does the FQDN point here; where mail for DOMAIN goes
  smarthost test SERVER --to ADDR [--route NAME]   sign in and send one test message, step by step
  (smarthost set|oauth|graph|clear|signin|status|signout also take --route NAME: that route's transport)`,
  options: {
    preset: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, security: { type: 'string' }, user: { type: 'string' },
    'password-stdin': { type: 'boolean' }, 'no-verify': { type: 'boolean' }, provider: { type: 'string' }, 'client-id': { type: 'string' },
    'client-secret-stdin': { type: 'boolean' }, tenant: { type: 'string' }, flow: { type: 'string' }, 'auth-url': { type: 'string' },
    'token-url': { type: 'string' }, 'device-url': { type: 'string' }, 'revoke-url': { type: 'string' }, scope: { type: 'string' },
    fingerprint: { type: 'string' }, clear: { type: 'boolean' }, domain: { type: 'string' }, 'client-certificate': { type: 'string' },
    mailbox: { type: 'string' }, certificate: { type: 'string' }, 'login-url': { type: 'string' }, 'graph-url': { type: 'string' },
    'per-minute': { type: 'string' }, 'recipients-per-day': { type: 'string' }, route: { type: 'string' }, delegated: { type: 'string' }, to: { type: 'string' },
  },
  async run(command, context) {
    const { sub, rest, io, values } = context;
    const admin = context.admin();
    if (command === 'dns') {
      if (sub === 'check-fqdn') {
        const result = await admin.call('dns.checkFqdn', { name: need(rest[0], 'a virtual server name') });
        io.out(result.message);
        return result.pointsHere ? 0 : 1;
      }
      if (sub === 'mx') {
        const domain = need(rest[0], 'a domain');
        const hosts = await resolveDestinations(domain, admin.app.store.listServers()[0]?.delivery.dnsServers ?? []);
        if (hosts.length === 0) io.out(`${domain} accepts no mail (no MX, A or AAAA record, or a null MX)`);
        for (const h of hosts) io.out(`${h.host}\t${h.addresses.join(', ')}`);
        return hosts.length ? 0 : 1;
      }
      throw new UsageError(`unknown command "dns ${sub ?? ''}"`);
    }
    const server = need(rest[0], 'a virtual server name');
    const route = stringOption(values, 'route');
    if (route !== undefined && (sub === 'certificate' || sub === 'trust')) throw new UsageError(`smarthost ${sub} works on the server's own smart host (not --route)`);
    const key = signInKey(server, route ?? null);
    switch (sub) {
      case 'set': return set(server, context);
      case 'oauth': return oauth(server, context);
      case 'graph': return graph(server, context);
      case 'signin': return signIn(key, context);
      case 'test': {
        const to = stringOption(values, 'to');
        if (!to) throw new UsageError('give --to ADDRESS: where the test message goes');
        const report = await admin.call('route.test', { server, route: route ?? null, to });
        io.out(`Test of route ${report.route} of ${report.server}, to <${report.to}>:`);
        for (const s of report.steps) {
          io.out(`  ${s.ok ? 'ok  ' : 'FAIL'} ${s.title}: ${s.detail}`);
          if (s.explanation) io.out(`       why: ${s.explanation.problem}\n       fix: ${s.explanation.fix}`);
        }
        io.out(report.passed ? 'relaydesk: the route works: check that the message arrived' : 'relaydesk: the route does not work yet (see the failed step)');
        return report.passed ? 0 : 1;
      }
      case 'clear':
        await saveHost(context, server, null);
        io.out(`relaydesk: ${route ? `route ${route} of ${server}` : server} delivers mail for other domains directly by MX`);
        return 0;
      case 'status': {
        const status = await admin.call('smarthost.status', { server: key });
        printStatus(status, context);
        return status.signedIn ? 0 : 1;
      }
      case 'signout': {
        const { revoked } = await admin.app.smartHostTokens.signOut(key);
        io.out(`relaydesk: ${server} signed out of its smart host; the refresh token was deleted here (${revoked})`);
        return 0;
      }
      case 'certificate': {
        const presented = await presentedSmartHostCertificate(admin.app.store, server);
        const { pinned } = presented;
        io.out([
          `Subject:     ${presented.subject}`, `Issuer:      ${presented.issuer}`, `Valid until: ${presented.validTo}`,
          `SHA-256:     ${presented.fingerprint256}`,
          `Verifies:    ${presented.verifies ? 'yes' : `no (${presented.verifyError ?? 'unknown'})`}`,
          `Trusted pin: ${pinned === null ? 'none' : pinned === presented.fingerprint256 ? 'this certificate' : `${pinned} (a different certificate: delivery will fail)`}`,
        ].join('\n'));
        return 0;
      }
      case 'trust': {
        const fingerprint = stringOption(values, 'fingerprint');
        if (!values.clear && !fingerprint) throw new UsageError('give --fingerprint SHA256 (see: relaydesk smarthost certificate SERVER) or --clear');
        const trusted = await admin.call('smarthost.trust', { server, fingerprint: values.clear ? null : fingerprint ?? null });
        io.out(trusted ? `relaydesk: ${server} trusts the smart host's certificate ${trusted.fingerprint256} (${trusted.subject})`
          : `relaydesk: ${server} no longer trusts a pinned certificate; the smart host's certificate must verify`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "smarthost ${sub ?? ''}"`);
    }
  },
};
