// Migration 1: virtual servers and their settings, address lists, accepted domains, users,
// certificates, and the message queue index. Append-only: never edit a released migration.
import type { Database } from 'better-sqlite3';

export const version = 1;
export const name = 'initial schema';

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE meta (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );

    CREATE TABLE certificates (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      cert_pem TEXT NOT NULL,
      chain_pem TEXT NOT NULL DEFAULT '',
      key_pem TEXT NOT NULL,
      fingerprint_sha256 TEXT NOT NULL,
      subject TEXT NOT NULL,
      not_before TEXT NOT NULL,
      not_after TEXT NOT NULL,
      created_at TEXT NOT NULL
    );

    CREATE TABLE virtual_servers (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE,
      bind_address TEXT NOT NULL,
      port INTEGER NOT NULL,
      tls_port INTEGER,
      fqdn TEXT NOT NULL,
      max_connections INTEGER,
      connection_timeout_seconds INTEGER NOT NULL,
      logging_enabled INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('started', 'stopped', 'paused')),
      access_json TEXT NOT NULL,
      messages_json TEXT NOT NULL,
      delivery_json TEXT NOT NULL,
      certificate_id INTEGER REFERENCES certificates(id) ON DELETE SET NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );

    CREATE TABLE address_rules (
      id INTEGER PRIMARY KEY,
      server_id INTEGER NOT NULL REFERENCES virtual_servers(id) ON DELETE CASCADE,
      list TEXT NOT NULL CHECK (list IN ('connection', 'relay')),
      position INTEGER NOT NULL,
      rule_json TEXT NOT NULL
    );
    CREATE INDEX address_rules_server ON address_rules(server_id, list, position);

    CREATE TABLE accepted_domains (
      domain TEXT PRIMARY KEY COLLATE NOCASE,
      action TEXT NOT NULL CHECK (action IN ('drop', 'forward')),
      forward_to TEXT
    );

    CREATE TABLE users (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE,
      password_hash TEXT NOT NULL,
      cram_secret TEXT,
      enabled INTEGER NOT NULL DEFAULT 1,
      senders_json TEXT NOT NULL DEFAULT '[]',
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );

    CREATE TABLE messages (
      id TEXT PRIMARY KEY,
      server_name TEXT NOT NULL,
      received_at TEXT NOT NULL,
      mail_from TEXT NOT NULL,
      size INTEGER NOT NULL,
      client_address TEXT NOT NULL,
      auth_user TEXT,
      spool_path TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('queued', 'done', 'frozen'))
    );
    CREATE INDEX messages_state ON messages(state, received_at);

    CREATE TABLE recipients (
      message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
      address TEXT NOT NULL,
      domain TEXT NOT NULL,
      route TEXT NOT NULL CHECK (route IN ('local', 'remote')),
      state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      last_reply TEXT,
      next_attempt_at TEXT,
      PRIMARY KEY (message_id, address)
    );
    CREATE INDEX recipients_due ON recipients(state, route, next_attempt_at);
  `);
}
