// Building blocks shared by every wire shape. Nullable fields are declared as `type: [T, 'null']`
// rather than `anyOf`: fast-json-stringify serialises the former directly, while `anyOf` makes it
// validate each value against every branch on the hot path of every response.
import { Type, type SchemaOptions, type TSchema, type TUnsafe } from '@sinclair/typebox';

/** Names of agents (and other user-named things): a subject token and a URL segment, no escaping surprises. */
export const AGENT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

/** Upper bounds that are part of the contract (the body byte cap bounds everything else). */
export const LIMITS = {
  nameMaxLength: 64,
  modelNameMaxLength: 256,
  descriptionMaxLength: 4096,
  promptMaxLength: 1_000_000,
  systemMaxLength: 100_000,
  maxTokens: 1_000_000,
  taskTimeoutMaxMs: 3_600_000,
  retriesMax: 10,
  maxTurns: 50,
  listLimitMax: 1000,
  listLimitDefault: 50,
  /** Far longer than any cursor handed out; a longer one is refused before it is decoded. */
  cursorMaxLength: 512,
} as const;

export const AgentName = (options: SchemaOptions = {}) =>
  Type.String({ pattern: AGENT_NAME_PATTERN, description: 'Agent name', ...options });

export const IsoTime = (options: SchemaOptions = {}) =>
  Type.String({ description: 'ISO-8601 time (UTC)', ...options });

type Primitive = 'string' | 'integer' | 'number' | 'boolean';
interface PrimitiveOf {
  string: string;
  integer: number;
  number: number;
  boolean: boolean;
}

/** `{type: [t, 'null']}`, typed as `T | null`. */
export function Nullable<P extends Primitive>(type: P, options: SchemaOptions = {}): TUnsafe<PrimitiveOf[P] | null> {
  return Type.Unsafe<PrimitiveOf[P] | null>({ type: [type, 'null'], ...options });
}

/** An object or null, as `anyOf` (objects cannot share a `type` array with null). */
export const NullableObject = <T extends TSchema>(schema: T, options: SchemaOptions = {}) =>
  Type.Union([schema, Type.Null()], options);

/** A JSON object of any shape (an agent's config, a model's load options). */
export const OpenObject = (options: SchemaOptions = {}) =>
  Type.Record(Type.String(), Type.Unknown(), { ...options, type: 'object' });
