// The engine: runs every virtual server the store says should run, and brings them in line with
// the store when asked (reconcile), without dropping sessions that the change does not concern
// (only an address or port change re-opens a listener). It does not watch the store itself: the
// app tells it when the store changed (app.ts).
import type { AcceptedDomain, VirtualServerConfig } from '../contract/settings';
import { AdminError } from '../contract/errors';
import { compilePolicy } from '../policy/session-policy';
import type { Store } from '../store/store';
import { buildSniOptions, buildTlsOptions } from '../tls/tls-options';
import { type EngineDeps, type RuntimeSettings, type StartResult, VirtualServer } from './virtual-server';


export interface EngineOptions extends EngineDeps {
  store: Store;
  /** Told the observed state after every reconcile (the app shares it with the CLI through the store). */
  published?(status: ServerStatus[]): void;
  /**
   * Never listen: the CLI's app changes the store through the AdminApi and a running `serve`
   * follows; the CLI process itself must not bind ports or publish a status.
   */
  offline?: boolean;
  /** How often a server that could not bind tries again (default BIND_RETRY_MS; tests shorten it). */
  bindRetryMs?: number;
}

/**
 * A server whose port is held by a program that is exiting, or whose address the network brings
 * up only after the service started (boot), listens by itself once it can: tried again this often.
 */
export const BIND_RETRY_MS = 30_000;

export interface ServerStatus {
  name: string;
  desired: VirtualServerConfig['state'];
  running: boolean;
  paused: boolean;
  listening: StartResult['listening'];
  lastBindFailure: Array<{ address: string; port: number; message: string }>;
  /** Seconds between attempts while the server cannot listen for a cause that can pass; null when it is not retried. */
  bindRetrySeconds: number | null;
  sessions: number;
}

export class Engine {
  private readonly running = new Map<string, VirtualServer>();
  private readonly bindFailures = new Map<string, StartResult['failures']>();
  private reconciling: Promise<void> = Promise.resolve();
  private bindRetry: NodeJS.Timeout | null = null;

  constructor(private readonly options: EngineOptions) {}

  /** Bring the running servers in line with the store; serialized, safe to call any time. */
  reconcile(): Promise<void> {
    if (this.options.offline) return Promise.resolve();
    this.reconciling = this.reconciling.then(() => this.reconcileNow(), () => this.reconcileNow());
    return this.reconciling;
  }

  async shutdown(graceMs?: number): Promise<void> {
    this.cancelBindRetry();
    await this.reconciling.catch(() => undefined);
    this.cancelBindRetry();
    await Promise.all([...this.running.values()].map((server) => server.stop(graceMs)));
    this.running.clear();
  }

  status(): ServerStatus[] {
    return this.options.store.listServers().map((config) => {
      const server = this.running.get(config.name.toLowerCase());
      return {
        name: config.name,
        desired: config.state,
        running: Boolean(server),
        paused: server?.isPaused ?? false,
        listening: server?.listening() ?? [],
        lastBindFailure: (this.bindFailures.get(config.name.toLowerCase()) ?? []).map(({ address, port, message }) => ({ address, port, message })),
        bindRetrySeconds: this.waitsForRetry(config) ? this.retryMs() / 1000 : null,
        sessions: server?.sessions.size ?? 0,
      };
    });
  }

  server(name: string): VirtualServer | undefined {
    return this.running.get(name.toLowerCase());
  }

  servers(): VirtualServer[] {
    return [...this.running.values()];
  }

  private runtimeSettings(config: VirtualServerConfig, domains: AcceptedDomain[]): RuntimeSettings {
    const certificate = config.certificate === null ? null : this.options.store.findCertificate(config.certificate);
    const dropDomains = new Set(domains.filter((d) => d.action === 'drop').map((d) => d.domain.toLowerCase()));
    const sni = config.access.sniCertificates.map((name) => this.options.store.findCertificate(name)).filter((c): c is NonNullable<typeof c> => c !== null);
    return {
      config,
      policy: compilePolicy(config, domains.map((d) => d.domain)),
      tls: certificate ? { ...buildTlsOptions(config.access, certificate), sniOptions: buildSniOptions(config.access, sni) } : null,
      routeOf: (domain) => (dropDomains.has(domain.toLowerCase()) ? 'local' : 'remote'),
    };
  }

  private async reconcileNow(): Promise<void> {
    const { store, bus, now } = this.options;
    const configs = store.listServers();
    const domains = store.listAcceptedDomains();
    const wanted = new Map(configs.map((c) => [c.name.toLowerCase(), c]));

    for (const [key, server] of this.running) {
      const config = wanted.get(key);
      if (!config || config.state === 'stopped' || server.needsRebind(config)) {
        this.running.delete(key);
        await server.stop();
        if (!config || config.state === 'stopped') bus.emit({ type: 'state', at: now().toISOString(), server: server.name, state: 'stopped' });
      }
    }

    for (const config of configs) {
      const key = config.name.toLowerCase();
      if (config.state === 'stopped') {
        this.bindFailures.delete(key); // started again later, a failure is news again
        continue;
      }
      const settings = this.runtimeSettings(config, domains);
      let server = this.running.get(key);
      if (server) {
        server.update(settings);
      } else {
        server = new VirtualServer(settings, this.options);
        const result = await server.start();
        const before = this.bindFailures.get(key) ?? [];
        this.bindFailures.set(key, result.failures);
        // Said once: a retry that fails the same way every 30 seconds for a weekend is not news.
        const repeated = result.failures.length === before.length && result.failures.every((f, i) => f.port === before[i]?.port && f.message === before[i]?.message);
        const retrySeconds = result.failures.every((f) => f.retryable) ? this.retryMs() / 1000 : null;
        if (!repeated) for (const failure of result.failures) {
          bus.emit({ type: 'bind-failed', at: now().toISOString(), server: config.name, address: failure.address, port: failure.port, message: failure.message, retrySeconds });
        }
        if (result.listening.length === 0) continue;
        this.running.set(key, server);
        for (const listener of result.listening) {
          bus.emit({ type: 'listening', at: now().toISOString(), server: config.name, address: listener.address, port: listener.port, mode: listener.mode });
        }
      }
      const shouldPause = config.state === 'paused';
      if (shouldPause !== server.isPaused) {
        if (shouldPause) server.pause();
        else server.resume();
        bus.emit({ type: 'state', at: now().toISOString(), server: config.name, state: config.state });
      }
    }
    this.scheduleBindRetry(configs);
    this.options.published?.(this.status());
  }

  private retryMs(): number {
    return this.options.bindRetryMs ?? BIND_RETRY_MS;
  }

  /** Wanted running, not listening, and every cause is one that can pass (not a missing certificate or a privileged port). */
  private waitsForRetry(config: VirtualServerConfig): boolean {
    const key = config.name.toLowerCase();
    const failures = this.bindFailures.get(key) ?? [];
    return config.state !== 'stopped' && !this.running.has(key) && failures.length > 0 && failures.every((f) => f.retryable);
  }

  private scheduleBindRetry(configs: readonly VirtualServerConfig[]): void {
    if (!configs.some((config) => this.waitsForRetry(config))) return this.cancelBindRetry();
    if (this.bindRetry) return;
    this.bindRetry = setTimeout(() => {
      this.bindRetry = null;
      this.reconcile().catch(() => undefined); // the next change or retry tries again
    }, this.retryMs());
    this.bindRetry.unref();
  }

  private cancelBindRetry(): void {
    if (this.bindRetry) clearTimeout(this.bindRetry);
    this.bindRetry = null;
  }

  /** Set the desired state of a server and apply it now. */
  async setState(name: string, state: VirtualServerConfig['state']): Promise<ServerStatus> {
    this.options.store.setServerState(name, state);
    await this.reconcile();
    const status = this.status().find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (!status) throw new AdminError('not-found', `no virtual server named "${name}"`, 'name');
    return status;
  }
}
