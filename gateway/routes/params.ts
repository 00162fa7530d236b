// Checks on path and query parameters that JSON Schema does not cover; each failure is a 400
// whose message names the parameter.
import { AuroraError } from '../../runtime/errors.js';
import type { HandlerRequest } from '../http.js';

export function assertKnown(field: string, value: string, known: readonly string[]): void {
  if (!known.includes(value)) throw new AuroraError('invalid_request', `Unknown ${field}: ${value}`);
}

/** A path parameter the route template guarantees. */
export function pathParam(req: HandlerRequest, name: string): string {
  const value = req.params[name];
  if (value === undefined) throw new Error(`route has no :${name} parameter`);
  return value;
}

export function queryEnum<T extends string>(req: HandlerRequest, name: string, allowed: readonly T[]): T | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new AuroraError('invalid_request', `${name}: must be one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

export function queryInt(req: HandlerRequest, name: string, opts: { min: number; max: number; fallback: number }): number {
  const raw = req.query[name];
  if (raw === undefined) return opts.fallback;
  const n = /^-?\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < opts.min || n > opts.max) {
    throw new AuroraError('invalid_request', `${name}: must be an integer between ${opts.min} and ${opts.max}`);
  }
  return n;
}

export function queryPattern(req: HandlerRequest, name: string, pattern: string): string | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (!new RegExp(pattern, 'u').test(raw)) {
    throw new AuroraError('invalid_request', `${name}: must match pattern "${pattern}"`);
  }
  return raw;
}

/** A free-form value of 1..maxLength characters. */
export function queryString(req: HandlerRequest, name: string, maxLength: number): string | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (raw.length === 0 || raw.length > maxLength) {
    throw new AuroraError('invalid_request', `${name}: must be 1 to ${maxLength} characters`);
  }
  return raw;
}

/** `true` or `false`, nothing else: a flag that deletes things must not be guessed from "yes" or "1". */
export function queryBool(req: HandlerRequest, name: string): boolean | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false') throw new AuroraError('invalid_request', `${name}: must be true or false`);
  return raw === 'true';
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 date-time with a zone, normalised to UTC as toISOString() writes it (how times are stored). */
export function queryIsoTime(req: HandlerRequest, name: string): string | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  const ms = ISO_TIME.test(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new AuroraError('invalid_request', `${name}: must be an ISO-8601 time with a zone, e.g. 2025-01-31T12:00:00Z`);
  }
  return new Date(ms).toISOString();
}
