// What every command group of the `relaydesk` command shares: its input/output, usage errors,
// and the AdminApi it calls (the same handlers, validated by the same contract schemas, as the
// console). The CLI's app is offline: it changes the store and a running `serve` follows within a
// second; it never listens itself.
import type { ParseArgsConfig } from 'node:util';
import { callMethod } from '../admin-dispatch';
import { createAdminHandlers } from '../admin';
import { App } from '../app';
import type { AdminMethodName, MethodInput, MethodOutput } from '../contract/admin-api';
import { AdminError } from '../contract/errors';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

/** A mistake in how the command was typed: exit code 2 and the usage. */
export class UsageError extends Error {}

export type OptionTable = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CliAdmin {
  readonly app: App;
  call<M extends AdminMethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
}

export interface CliContext {
  dataDir: string;
  sub: string | undefined;
  rest: string[];
  values: Values;
  io: Io;
  /** The AdminApi over this data folder (opened on first use, closed when the command ends). */
  admin(): CliAdmin;
  /** Standard input without its final line break (passwords, secrets). */
  secretFromStdin(): Promise<string>;
}

/** One command group: `relaydesk NAME ...`, with its own options and usage lines. */
export interface CommandGroup {
  names: readonly string[];
  usage: string;
  options: OptionTable;
  run(command: string, context: CliContext): Promise<number>;
}

export function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

export function stringOption(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(values: Values, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

/** A whole number option within bounds, or a usage error naming the option. */
export function integerOption(values: Values, name: string, min: number, max: number): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name} takes a whole number from ${min} to ${max}`);
  return value;
}

/** The AdminApi as the console calls it: the contract parses the input, errors come back as AdminError. */
export function openCliAdmin(dataDir: string): CliAdmin {
  const app = new App({ dataDir, offline: true });
  const handlers = createAdminHandlers(app);
  return {
    app,
    async call(method, input) {
      const result = await callMethod(handlers, method, input);
      if (!result.ok) throw new AdminError(result.error.code as AdminError['code'], result.error.message, result.error.field);
      return result.value as MethodOutput<typeof method>;
    },
  };
}
