// Every migration in order. A new schema change is a new numbered file appended here, with a
// test that upgrades the previous schema (test/unit/store-migrations.test.ts).
import type { Database } from 'better-sqlite3';
import * as m001 from './001-initial';
import * as m002 from './002-session-log';
import * as m003 from './003-spool-envelope';
import * as m004 from './004-certificate-requests';
import * as m005 from './005-delay-notification';
import * as m006 from './006-oauth-tokens';
import * as m007 from './007-unattended';
import * as m008 from './008-queue-paging';
import * as m009 from './009-batch-spool';
import * as m010 from './010-lean-session-log';
import * as m011 from './011-tried-recipients';

export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}

export const MIGRATIONS: readonly Migration[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010, m011];
