// Virtual servers, their address rules, certificates and the accepted domains: validated before they are
// written, parsed once and cached until something changes.
import path from 'node:path';
import { z } from 'zod';
import {
  type AcceptedDomain, acceptedDomainSchema, type AddressRule, addressRuleSchema, accessSettingsSchema, DEFAULT_ACCESS, DEFAULT_DELIVERY, DEFAULT_MESSAGES,
  deliverySettingsSchema, type ServerState, serverStateSchema, messageSettingsSchema, signInIdentity, signInKey, smartHostsOf, type VirtualServerConfig, type VirtualServerInput, virtualServerSchema,
} from '../contract/settings';
import { findListenerConflict } from '../contract/config';
import { AdminError, parseOrThrow } from '../contract/errors';
import { openSealedSecrets, sealSecrets } from './sealed-secrets';
import {
  type CertificateRequest, type CertificateRequestRow, type CertificateRow, certificateFromRow, deepFreeze, type NewCertificate, patchSchema, requestFromRow,
  type ServerRow, type StoredCertificate, type VirtualServerPatch,
} from './records';
import { AccountTables } from './account-tables';

/** Virtual servers (with their address rules), their certificates and accepted domains. */
export class ServerTables extends AccountTables {
  protected serversCache: { dataVersion: number; writes: number; servers: readonly VirtualServerConfig[] } | null = null;

  /** Bumped by every write of servers or certificates made through this store. */
  protected serverWrites = 0;

  /**
   * Stores from earlier versions: the smart host password and client secret were kept in clear
   * (sealed now, and the freed pages overwritten so the cleartext does not linger), and folders
   * could be relative to wherever the server started (made absolute against that same place).
   */
  normalizeStoredSettings(): void {
    type Row = { id: number; delivery_json: string; messages_json: string };
    const select = this.db.prepare('SELECT id, delivery_json, messages_json FROM virtual_servers');
    const update = this.db.prepare('UPDATE virtual_servers SET delivery_json = ?, messages_json = ? WHERE id = ?');
    const absolute = (value: unknown) => (typeof value === 'string' && value !== '' && !path.isAbsolute(value) ? path.resolve(value) : value);
    const normalized = (row: Row) => {
      const delivery = JSON.parse(row.delivery_json) as Record<string, unknown>;
      const messages = JSON.parse(row.messages_json) as Record<string, unknown>;
      // Only keys that are there: an absent one takes today's default when read (pickupFolder: off).
      for (const key of ['dropFolder', 'pickupFolder'] as const) if (key in delivery) delivery[key] = absolute(delivery[key]);
      if ('badmailFolder' in messages) messages.badmailFolder = absolute(messages.badmailFolder);
      const deliveryJson = JSON.stringify(sealSecrets(delivery, this.box));
      const messagesJson = JSON.stringify(messages);
      return deliveryJson !== row.delivery_json || messagesJson !== row.messages_json ? { deliveryJson, messagesJson } : null;
    };
    // The usual open finds nothing to change and takes no write lock.
    if (!(select.all() as Row[]).some((row) => normalized(row) !== null)) return;
    let changed = 0;
    this.db.pragma('secure_delete = ON');
    try {
      this.transaction(() => {
        // Read again under the write lock: a running serve's change in between is not overwritten.
        for (const row of select.all() as Row[]) {
          const change = normalized(row);
          if (!change) continue;
          update.run(change.deliveryJson, change.messagesJson, row.id);
          changed++;
        }
      });
      if (changed > 0) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.pragma('secure_delete = OFF');
    }
  }


  // ── virtual servers ────────────────────────────────────────────────────────────────────

  /**
   * Every virtual server, parsed. Delivery, the pickup folder and the engine ask often (on every
   * accepted message), and parsing 10,000 address rules costs tens of milliseconds, so the parsed
   * list is kept until this store writes a server or certificate, or another process commits
   * (data_version). The objects are frozen: callers copy before changing.
   */
  listServers(): readonly VirtualServerConfig[] {
    const dataVersion = this.dataVersion();
    const cached = this.serversCache;
    if (cached && cached.dataVersion === dataVersion && cached.writes === this.serverWrites) return cached.servers;
    const rows = this.db.prepare(`SELECT s.*, c.name AS certificate_name FROM virtual_servers s
      LEFT JOIN certificates c ON c.id = s.certificate_id ORDER BY s.id`).all() as ServerRow[];
    const servers = deepFreeze(rows.map((row) => this.serverFromRow(row)));
    this.serversCache = { dataVersion, writes: this.serverWrites, servers };
    return servers;
  }


  getServer(name: string): VirtualServerConfig {
    const row = this.db.prepare(`SELECT s.*, c.name AS certificate_name FROM virtual_servers s
      LEFT JOIN certificates c ON c.id = s.certificate_id WHERE s.name = ?`).get(name) as ServerRow | undefined;
    if (!row) throw new AdminError('not-found', `no virtual server named "${name}"`, 'name');
    return this.serverFromRow(row);
  }


  protected serverFromRow(row: ServerRow): VirtualServerConfig {
    const rules = this.db.prepare('SELECT list, rule_json FROM address_rules WHERE server_id = ? ORDER BY position').all(row.id) as Array<{ list: string; rule_json: string }>;
    const parseRule = (json: string): AddressRule => addressRuleSchema.parse(JSON.parse(json));
    return {
      name: row.name,
      bindAddress: row.bind_address,
      port: row.port,
      tlsPort: row.tls_port,
      fqdn: row.fqdn,
      maxConnections: row.max_connections,
      connectionTimeoutSeconds: row.connection_timeout_seconds,
      loggingEnabled: row.logging_enabled === 1,
      state: serverStateSchema.parse(row.state),
      // Stored sections are merged over today's defaults, so a setting added later gets its default.
      access: accessSettingsSchema.parse({ ...DEFAULT_ACCESS, ...JSON.parse(row.access_json) as object }),
      messages: messageSettingsSchema.parse({ ...DEFAULT_MESSAGES, ...JSON.parse(row.messages_json) as object }),
      delivery: deliverySettingsSchema.parse({ ...DEFAULT_DELIVERY, ...openSealedSecrets(JSON.parse(row.delivery_json) as Record<string, unknown>, this.box) }),
      connectionRules: rules.filter((r) => r.list === 'connection').map((r) => parseRule(r.rule_json)),
      relayRules: rules.filter((r) => r.list === 'relay').map((r) => parseRule(r.rule_json)),
      certificate: row.certificate_name,
      banner: row.banner,
    };
  }


  createServer(input: VirtualServerInput): VirtualServerConfig {
    const server = parseOrThrow(virtualServerSchema, input);
    return this.transaction(() => {
      this.assertNoConflict(server, null);
      this.writeServer(server, null);
      return this.getServer(server.name);
    });
  }


  /** Apply a partial change (sections merged field by field); validated as a whole before writing. */
  updateServer(name: string, patch: VirtualServerPatch): VirtualServerConfig {
    const change = parseOrThrow(patchSchema, patch);
    return this.transaction(() => {
      const current = this.getServer(name);
      const merged = parseOrThrow(virtualServerSchema, {
        ...current,
        ...change,
        access: { ...current.access, ...change.access },
        messages: { ...current.messages, ...change.messages },
        delivery: { ...current.delivery, ...change.delivery },
      });
      this.assertNoConflict(merged, name);
      this.writeServer(merged, name);
      this.dropStaleSignIn(current, merged);
      return this.getServer(merged.name);
    });
  }


  /**
   * A stored OAuth2 sign-in belongs to one identity (provider, tenant, client, mailbox, smart
   * host: signInIdentity). When the settings name another, the old refresh token is deleted and
   * the server needs a new sign-in; without OAuth2 (or after a rename) the sign-in goes.
   */
  protected dropStaleSignIn(before: VirtualServerConfig, after: VirtualServerConfig | null): void {
    const same = after && after.name.toLowerCase() === before.name.toLowerCase() ? after : null;
    for (const { route, host } of smartHostsOf(before.delivery)) {
      const key = signInKey(before.name, route);
      const previous = signInIdentity(host);
      if (previous === null || !this.getSignIn(key)) continue;
      const nextHost = !same ? null : route === null ? same.delivery.smartHost : same.delivery.routes.find((r) => r.name.toLowerCase() === route.toLowerCase())?.smartHost ?? null;
      const next = signInIdentity(nextHost);
      if (next === previous) continue;
      if (next === null) {
        this.removeSignIn(key);
        continue;
      }
      this.stmt(`UPDATE oauth_sign_ins SET account = ?, refresh_token_sealed = NULL, needs_sign_in = 1, access_expires_at = NULL, signed_in_at = ?,
        last_error = 'the OAuth2 settings changed (provider, tenant, client, mailbox or smart host): the old sign-in was deleted' WHERE server_name = ?`)
        .run(nextHost?.user ?? '', this.stamp(), key);
    }
  }

  setServerState(name: string, state: ServerState): void {
    this.serverWrites++;
    const result = this.db.prepare('UPDATE virtual_servers SET state = ?, updated_at = ? WHERE name = ?').run(parseOrThrow(serverStateSchema, state, 'state'), this.stamp(), name);
    if (result.changes === 0) throw new AdminError('not-found', `no virtual server named "${name}"`, 'name');
  }


  deleteServer(name: string): void {
    this.serverWrites++;
    this.removeSignIn(name);
    const result = this.db.prepare('DELETE FROM virtual_servers WHERE name = ?').run(name);
    if (result.changes === 0) throw new AdminError('not-found', `no virtual server named "${name}"`, 'name');
  }


  protected assertNoConflict(server: VirtualServerConfig, previousName: string | null): void {
    const access = server.access;
    if (access.allowLegacyTls && (access.basicAuth || access.cramMd5)) {
      throw new AdminError('invalid', 'old TLS (1.0/1.1) is only for a server nobody signs in to: create one with the New virtual server wizard\'s "For devices that cannot sign in" (or relaydesk server add), and keep this one strong', 'access.allowLegacyTls');
    }
    const others = this.listServers().filter((s) => s.name.toLowerCase() !== (previousName ?? '').toLowerCase());
    if (others.some((s) => s.name.toLowerCase() === server.name.toLowerCase())) {
      throw new AdminError('conflict', `a virtual server named "${server.name}" already exists`, 'name');
    }
    const clash = findListenerConflict(server, others);
    if (clash) throw new AdminError('conflict', clash, 'port');
    if (server.certificate !== null) this.certificateId(server.certificate);
    for (const name of server.access.sniCertificates) {
      if (!this.findCertificate(name)) throw new AdminError('not-found', `no certificate named "${name}"`, 'access.sniCertificates');
    }
  }


  protected certificateId(name: string): number {
    const row = this.db.prepare('SELECT id FROM certificates WHERE name = ?').get(name) as { id: number } | undefined;
    if (!row) throw new AdminError('not-found', `no certificate named "${name}"`, 'certificate');
    return row.id;
  }


  protected writeServer(server: VirtualServerConfig, previousName: string | null): void {
    this.serverWrites++;
    const stamp = this.stamp();
    const values = {
      name: server.name, bind_address: server.bindAddress, port: server.port, tls_port: server.tlsPort, fqdn: server.fqdn,
      max_connections: server.maxConnections, connection_timeout_seconds: server.connectionTimeoutSeconds,
      logging_enabled: server.loggingEnabled ? 1 : 0, state: server.state,
      access_json: JSON.stringify(server.access), messages_json: JSON.stringify(server.messages), delivery_json: JSON.stringify(sealSecrets(server.delivery, this.box)),
      certificate_id: server.certificate === null ? null : this.certificateId(server.certificate), banner: server.banner, stamp,
    };
    let id: number;
    if (previousName === null) {
      id = Number(this.db.prepare(`INSERT INTO virtual_servers (name, bind_address, port, tls_port, fqdn, max_connections,
        connection_timeout_seconds, logging_enabled, state, access_json, messages_json, delivery_json, certificate_id, banner, created_at, updated_at)
        VALUES (@name, @bind_address, @port, @tls_port, @fqdn, @max_connections, @connection_timeout_seconds, @logging_enabled,
        @state, @access_json, @messages_json, @delivery_json, @certificate_id, @banner, @stamp, @stamp)`).run(values).lastInsertRowid);
    } else {
      const row = this.db.prepare('SELECT id FROM virtual_servers WHERE name = ?').get(previousName) as { id: number };
      id = row.id;
      this.db.prepare(`UPDATE virtual_servers SET name = @name, bind_address = @bind_address, port = @port, tls_port = @tls_port,
        fqdn = @fqdn, max_connections = @max_connections, connection_timeout_seconds = @connection_timeout_seconds,
        logging_enabled = @logging_enabled, state = @state, access_json = @access_json, messages_json = @messages_json,
        delivery_json = @delivery_json, certificate_id = @certificate_id, banner = @banner, updated_at = @stamp WHERE id = @id`).run({ ...values, id });
      this.db.prepare('DELETE FROM address_rules WHERE server_id = ?').run(id);
    }
    const insertRule = this.db.prepare('INSERT INTO address_rules (server_id, list, position, rule_json) VALUES (?, ?, ?, ?)');
    server.connectionRules.forEach((rule, i) => insertRule.run(id, 'connection', i, JSON.stringify(rule)));
    server.relayRules.forEach((rule, i) => insertRule.run(id, 'relay', i, JSON.stringify(rule)));
  }


  // ── certificates ───────────────────────────────────────────────────────────────────────

  listCertificates(): StoredCertificate[] {
    return (this.db.prepare('SELECT * FROM certificates ORDER BY name').all() as CertificateRow[]).map(certificateFromRow);
  }


  findCertificate(name: string): StoredCertificate | null {
    const row = this.db.prepare('SELECT * FROM certificates WHERE name = ?').get(name) as CertificateRow | undefined;
    return row ? certificateFromRow(row) : null;
  }


  addCertificate(certificate: NewCertificate): StoredCertificate {
    this.serverWrites++;
    if (this.findCertificate(certificate.name)) throw new AdminError('conflict', `a certificate named "${certificate.name}" already exists`, 'name');
    this.db.prepare(`INSERT INTO certificates (name, cert_pem, chain_pem, key_pem, fingerprint_sha256, subject, not_before, not_after, created_at)
      VALUES (@name, @certPem, @chainPem, @keyPem, @fingerprintSha256, @subject, @notBefore, @notAfter, @stamp)`).run({ ...certificate, stamp: this.stamp() });
    return this.findCertificate(certificate.name) as StoredCertificate;
  }


  removeCertificate(name: string): void {
    this.serverWrites++;
    const inUse = this.listServers().filter((s) => s.certificate === name || s.access.sniCertificates.includes(name)).map((s) => s.name);
    if (inUse.length) throw new AdminError('conflict', `certificate "${name}" is assigned to ${inUse.map((n) => `"${n}"`).join(', ')}; assign another first`, 'name');
    const result = this.db.prepare('DELETE FROM certificates WHERE name = ?').run(name);
    if (result.changes === 0) throw new AdminError('not-found', `no certificate named "${name}"`, 'name');
  }


  // ── certificate requests ───────────────────────────────────────────────────────────────

  addCertificateRequest(request: Omit<CertificateRequest, 'createdAt'>): void {
    if (this.findCertificateRequest(request.name) || this.findCertificate(request.name)) {
      throw new AdminError('conflict', `a certificate or request named "${request.name}" already exists`, 'name');
    }
    this.db.prepare(`INSERT INTO certificate_requests (name, common_name, alt_names_json, key_spec, key_pem, csr_pem, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`).run(request.name, request.commonName, JSON.stringify(request.altNames), request.keySpec, request.keyPem, request.csrPem, this.stamp());
  }


  listCertificateRequests(): CertificateRequest[] {
    return (this.db.prepare('SELECT * FROM certificate_requests ORDER BY created_at').all() as CertificateRequestRow[]).map(requestFromRow);
  }


  findCertificateRequest(name: string): CertificateRequest | null {
    const row = this.db.prepare('SELECT * FROM certificate_requests WHERE name = ?').get(name) as CertificateRequestRow | undefined;
    return row ? requestFromRow(row) : null;
  }


  removeCertificateRequest(name: string): void {
    const result = this.db.prepare('DELETE FROM certificate_requests WHERE name = ?').run(name);
    if (result.changes === 0) throw new AdminError('not-found', `no pending request named "${name}"`, 'name');
  }


  // ── accepted domains ───────────────────────────────────────────────────────────────────

  listAcceptedDomains(): AcceptedDomain[] {
    const rows = this.db.prepare('SELECT domain, action, forward_to FROM accepted_domains ORDER BY domain').all() as Array<{ domain: string; action: 'drop' | 'forward'; forward_to: string | null }>;
    return rows.map((r) => ({ domain: r.domain, action: r.action, forwardTo: r.forward_to }));
  }


  addAcceptedDomain(input: z.input<typeof acceptedDomainSchema>): AcceptedDomain {
    const domain = parseOrThrow(acceptedDomainSchema, input);
    const exists = this.db.prepare('SELECT 1 FROM accepted_domains WHERE domain = ?').get(domain.domain);
    if (exists) throw new AdminError('conflict', `domain ${domain.domain} is already accepted`, 'domain');
    this.db.prepare('INSERT INTO accepted_domains (domain, action, forward_to) VALUES (?, ?, ?)').run(domain.domain, domain.action, domain.forwardTo);
    return domain;
  }


  removeAcceptedDomain(domain: string): void {
    const result = this.db.prepare('DELETE FROM accepted_domains WHERE domain = ?').run(domain.trim());
    if (result.changes === 0) throw new AdminError('not-found', `domain ${domain} is not an accepted domain`, 'domain');
  }

}
