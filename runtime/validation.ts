// Validation of data against the protocol's schemas (ajv), with one-sentence messages that name
// the offending field. The gateway validates request bodies with it, the registry agent configs.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; message: string };

export interface Validator<T> {
  /** Validates (and fills defaults into) `data`; the message names the offending field. */
  (data: unknown): ValidationResult<T>;
}

/**
 * strict: a schema with a typo'd keyword fails to compile instead of validating nothing.
 * useDefaults: absent optional fields get their declared default, so handlers see one shape.
 */
// discriminator: a oneOf keyed by a `type` field (workflow nodes) is checked against the one branch
// the field names, so errors speak of that branch.
const ajv = new Ajv({ allErrors: false, useDefaults: true, coerceTypes: false, strict: true, discriminator: true });

/** A JSON Schema written as plain data (a tool's parameters, which models read as JSON). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** Compiles once; call at startup and keep the result. `prefix` is prepended to field names. */
export function compileValidator<T = unknown>(schema: TSchema | JsonSchema, prefix = ''): Validator<T> {
  const validate: ValidateFunction = ajv.compile(schema);
  return (data) => {
    if (validate(data)) return { ok: true, value: data as T };
    return { ok: false, message: describeValidationError(validate.errors?.[0], prefix) };
  };
}

/** `/tasks/0/parameters/seed` → `tasks[0].parameters.seed`. */
export function pointerToField(pointer: string): string {
  if (pointer === '') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^\d+$/.test(token)) out += `[${token}]`;
    else out += out === '' ? token : `.${token}`;
  }
  return out;
}

function join(parent: string, child: string): string {
  if (parent === '') return child;
  return child === '' ? parent : `${parent}.${child}`;
}

/** Turns ajv's first error into one sentence that names the field. */
export function describeValidationError(error: ErrorObject | undefined, prefix = ''): string {
  if (!error) return prefix === '' ? 'Invalid request body' : `${prefix}: is invalid`;
  const field = join(prefix, pointerToField(error.instancePath));
  switch (error.keyword) {
    case 'required':
      return `${join(field, String((error.params as { missingProperty: string }).missingProperty))} is required`;
    case 'additionalProperties':
      return `${join(field, String((error.params as { additionalProperty: string }).additionalProperty))} is not a known field`;
    case 'discriminator': {
      const { tag, tagValue } = error.params as { tag: string; tagValue?: unknown };
      return tagValue === undefined
        ? `${join(field, tag)} is required (a string)`
        : `${join(field, tag)}: unknown type ${JSON.stringify(tagValue)}`;
    }
    default:
      return `${field === '' ? 'Request body' : field}: ${error.message ?? 'is invalid'}`;
  }
}

export interface UserSchemaCheck {
  (value: unknown): { ok: true } | { ok: false; errors: string[] };
}

// Schemas that users write (structured output, workflow inputs): checked leniently as to unknown
// keywords, with every error reported. Compiled once per distinct schema; bounded, since they come
// from users.
const MAX_USER_SCHEMAS = 256;
const userSchemas = new Map<string, UserSchemaCheck>();
const lenient = new Ajv({ allErrors: true, strict: false });

/** Compiles a user's JSON Schema, or says why it is not one. */
export function compileUserSchema(schema: Record<string, unknown>): UserSchemaCheck | string {
  const key = JSON.stringify(schema);
  const hit = userSchemas.get(key);
  if (hit !== undefined) return hit;
  let validate: ValidateFunction;
  try {
    validate = lenient.compile(schema);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  const check: UserSchemaCheck = (value) => {
    if (validate(value)) return { ok: true };
    return {
      ok: false,
      errors: (validate.errors ?? []).slice(0, 10).map((e) => `${e.instancePath === '' ? '(root)' : e.instancePath} ${e.message ?? 'is invalid'}`),
    };
  };
  if (userSchemas.size >= MAX_USER_SCHEMAS) userSchemas.delete(userSchemas.keys().next().value!);
  userSchemas.set(key, check);
  return check;
}
