// What every command of the command line gets, and the option parsers they share.
import { InvalidArgumentError, type Command } from 'commander';
import type { AuroraClient } from '../client/index.js';
import type { Io } from './output.js';

/** What every command gets: the client for the global --url/--token, the output mode and the streams. */
export interface Context {
  readonly client: AuroraClient;
  readonly json: boolean;
  readonly io: Io;
}

export type ContextOf = (command: Command) => Context;

export interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

/** A positive integer option (commander reports the error as a usage error). */
export function positiveInt(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

/** A non-negative integer option. */
export function naturalInt(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

/** A comma-separated list option (may repeat). */
export function list(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

