// Model pulls: downloading a model into the LLM provider as a job with progress, one job per
// (provider, model) at a time.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, LIMITS, Nullable } from './common.js';
import { EXAMPLE } from './examples.js';

/**
 * Model names a pull accepts: `llama3.1`, `library/llama3.1:8b`, `hf.co/user/repo:Q4_K_M`.
 * The provider turns the name into registry URLs and file paths, so it starts and ends with a letter,
 * digit (or `_` at the end) and holds no `..` and no `//`: nothing in it can climb, root or empty a path.
 */
export const MODEL_NAME_PATTERN = '^(?!.*\\.\\.)(?!.*//)[A-Za-z0-9](?:[A-Za-z0-9._:/-]*[A-Za-z0-9_])?$';

export const PULL_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type PullStatus = (typeof PULL_STATUSES)[number];

const PullStatusField = Type.Unsafe<PullStatus>({ type: 'string', enum: PULL_STATUSES, description: 'Pull status' });

const ModelName = () =>
  Type.String({
    minLength: 1,
    maxLength: LIMITS.modelNameMaxLength,
    pattern: MODEL_NAME_PATTERN,
    description: 'Model name as the provider knows it (`llama3.1`, `library/llama3.1:8b`)',
  });

export const PullRequest = Type.Object(
  {
    name: ModelName(),
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 64, default: 'ollama', description: 'LLM provider to pull into' })),
  },
  { additionalProperties: false, examples: [{ name: EXAMPLE.model }] },
);
export interface PullBody {
  name: string;
  provider: string;
}

export const PullRecord = Type.Object({
  pull_id: Type.String({ description: 'Id of the pull: GET /api/v1/models/pulls/{id}' }),
  name: Type.String({ description: 'Model being pulled' }),
  provider: Type.String({ description: 'LLM provider pulling it' }),
  status: PullStatusField,
  completed_bytes: Type.Integer({ minimum: 0, description: 'Bytes downloaded so far, over every layer announced' }),
  total_bytes: Type.Integer({ minimum: 0, description: 'Bytes of every layer announced so far (0 until the first)' }),
  percent: Type.Integer({
    minimum: 0,
    maximum: 100,
    description: 'Whole percent done; never goes back when the provider announces another layer; 100 only once completed',
  }),
  detail: Nullable('string', { description: "The provider's last status line (`pulling manifest`, `verifying sha256 digest`, …)" }),
  error: Nullable('string', { description: 'Why the pull failed or was cancelled' }),
  error_code: Nullable('string', { description: 'Error code of a failed or cancelled pull (`interrupted`: the process holding it stopped)' }),
  started_at: IsoTime({ description: 'When the pull started' }),
  finished_at: Nullable('string', { description: 'When it completed, failed or was cancelled; null while running' }),
}, {
  examples: [
    {
      pull_id: EXAMPLE.pullId,
      name: EXAMPLE.model,
      provider: EXAMPLE.provider,
      status: 'running',
      completed_bytes: 1207959552,
      total_bytes: 3826793677,
      percent: 31,
      detail: 'pulling 8934d96d3f08',
      error: null,
      error_code: null,
      started_at: EXAMPLE.time,
      finished_at: null,
    },
  ],
});
export type PullRecord = Static<typeof PullRecord>;

/** A pull looked up or cancelled by its id. */
export const PullRef = Type.Object({ pull_id: Type.String() });

/**
 * Start (or join) a pull. `if_missing`: pull only when the provider does not have the model (the
 * reply is then null when it does). `wait_ms`: how long to wait for the pull to end before
 * replying with the record as it stands.
 */
export const PullCommand = Type.Object({
  name: Type.String(),
  provider: Type.String(),
  if_missing: Type.Boolean(),
  wait_ms: Type.Integer({ minimum: 0 }),
});
export type PullCommand = Static<typeof PullCommand>;
