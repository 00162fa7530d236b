// A realistic `{"detail"}` for each error code, as the runtime words it, for the OpenAPI document's
// error examples. They use the names of the protocol's examples (runtime/protocol/examples.ts) so
// that an error shown next to an operation is the one a newcomer following those examples meets.
// test/unit/openapi-examples.test.ts checks each against the messages the code really builds.
import type { ErrorCode } from '../runtime/errors.js';
import { EXAMPLE } from '../runtime/protocol/index.js';
import type { RequestSchemaName } from './schemas.js';

const { agent, model, workflow, taskId, threadId, pullId, runId } = EXAMPLE;
const ollama = 'http://127.0.0.1:11434';

export const ERROR_EXAMPLES: Readonly<Record<ErrorCode, string>> = {
  invalid_request: 'limit: must be an integer between 1 and 1000',
  unauthorized: 'Missing bearer token',
  // Overridden per operation: the scope it needs with auth on, the origin rule with auth off.
  forbidden: 'Missing scope: agents:write',
  not_found: 'Not Found',
  agent_not_found: `Agent ${agent} not found`,
  workflow_not_found: `Workflow ${workflow} not found`,
  run_not_found: `Run ${runId} not found`,
  model_not_found: `Model ${model} not found; pull it with POST /api/v1/models/pull {"name":"${model}"} (or \`ollama pull ${model}\`)`,
  model_not_loaded: `Model ${model} is not loaded`,
  task_not_found: `Task ${taskId} not found`,
  method_not_allowed: 'Method Not Allowed',
  upgrade_required:
    '/api/v1/stream is a WebSocket: connect with a WebSocket client (Upgrade: websocket). ' +
    "For one task's events over plain HTTP use GET /api/v1/tasks/{id}/events (Server-Sent Events)",
  agent_exists: `Agent ${agent} already exists`,
  agent_failed: `Agent ${agent} has failed; restart it to run tasks`,
  agent_stopped: `Agent ${agent} is stopped`,
  task_finished: `Task ${taskId} is already completed`,
  request_timeout: 'Request body not received in time',
  payload_too_large: 'Request body exceeds 1048576 bytes',
  unsupported_media_type: 'Content-Type is missing; send the body as application/json',
  queue_full: `Agent ${agent} has 100 tasks queued; try again later`,
  rate_limited: 'Rate limit exceeded: 60 requests per minute',
  task_cancelled: `Task ${taskId} was cancelled`,
  agent_crashed: `Agent ${agent} crashed while running task ${taskId}: Injected fault: fault injection`,
  interrupted: 'Aurora stopped while the task was queued or running',
  internal: 'Internal server error',
  llm_error: 'LLM provider error (HTTP 500): model runner has unexpectedly stopped',
  llm_bad_response: `the LLM provider at ${ollama} ended the stream without a final response`,
  llm_unavailable:
    `LLM provider unreachable at ${ollama}: ECONNREFUSED 127.0.0.1:11434; start Ollama (\`ollama serve\`; ` +
    'install it from https://ollama.com/download) or set OLLAMA_HOST to the address it listens on',
  no_responders: `no responders on "aurora.agent.${agent}.task"`,
  unavailable: `The message bus is disconnected; "aurora.agent.${agent}.task" was not sent. Retry shortly`,
  bus_disconnected:
    `The message bus went down while task ${taskId} was in flight and was not back within 5000 ms: ` +
    `its outcome is unknown. Read it at GET /api/v1/tasks/${taskId} once the service is back ` +
    '(a retry with the same Idempotency-Key joins it)',
  fault_injection_disabled: 'Fault injection is disabled (set FAULT_INJECTION_ENABLED=true)',
  timeout: `Task ${taskId} timed out after 120000 ms`,
  bus_timeout: 'no reply on "aurora.registry.get" within 5000ms',
  llm_timeout: `the LLM provider at ${ollama} sent nothing for 300000 ms; the request was closed`,
  thread_not_found: `Thread ${threadId} not found for agent ${agent}`,
  max_turns_exceeded: 'The model still asked for tools after 8 turns (max_turns 8); the task was stopped',
  output_invalid: 'The answer does not match output_schema: /title must be string',
  context_overflow:
    'The prompt needs about 5210 tokens but num_ctx 4096 leaves 3072 after reserving 1024 for the answer; raise num_ctx or shorten the prompt',
  max_handoffs_exceeded: 'main/triage handed off 10 times (max_handoffs 10) without finishing',
  idempotency_mismatch: 'This Idempotency-Key was used with a different request; use a new key',
  idempotency_in_progress: 'The first request with this Idempotency-Key is still being answered; retry shortly',
  pull_not_found: `Pull ${pullId} not found`,
  workflow_exists: `Workflow ${workflow} already exists; PUT /api/v1/workflows/${workflow} adds a version`,
  pull_finished: `Pull ${pullId} already completed`,
  pull_cancelled: `Pull ${pullId} of ${model} cancelled: Pull cancelled`,
  artifact_not_found: `Artifact ${EXAMPLE.artifactId} not found (unknown, or dropped by ARTIFACTS_MAX / ARTIFACTS_MAX_BYTES)`,
  browser_action_failed: 'actions[1] (click) failed: click: no visible element matches #sign-in within 10000 ms',
  browser_crashed: 'navigate: the browser went away (Target closed)',
  navigation_refused: 'navigation refused: http://127.0.0.1:9000/: origin http://127.0.0.1:9000 is not allowed (see config.allowed_origins)',
};

/** What a body that fails its schema is answered with, per request schema: a mistake people make. */
export const INVALID_BODY_EXAMPLES: Readonly<Record<RequestSchemaName, string>> = {
  AgentCreateRequest: 'model is not a known field',
  AgentUpdateRequest: 'temperature is not a known field',
  ThreadCreateRequest: 'name is not a known field',
  ModelLoadRequest: 'name is required',
  PullRequest: 'name is required',
  TaskExecuteRequest: 'prompt is required',
  TaskBatchRequest: 'tasks[1].prompt is required',
  RunRequest: 'inputs is not a known field',
  WorkflowCreateRequest: 'graph.steps[1].type: unknown type "agnet"',
  WorkflowUpdateRequest: 'graph is required',
};

/** A 400 of a route without a body: a bad query value, or a parameter given twice. */
export const INVALID_QUERY_EXAMPLE = ERROR_EXAMPLES.invalid_request;
export const DUPLICATE_QUERY_EXAMPLE = 'Query parameter "limit" is given more than once';

/** A pull refused because the node runs as many as it may (models routes; agents' mailboxes say their own). */
export const PULL_QUEUE_FULL_EXAMPLE =
  '2 model pulls are running, the most this node runs at once (MODEL_PULL_MAX_CONCURRENT); try again when one ends';

/** With auth off, a write from a browser page whose origin is not listed (gateway/origin-guard.ts). */
export const CROSS_ORIGIN_EXAMPLE =
  'Cross-origin request refused: Origin "https://example.com" is not in CORS_ORIGINS, ' +
  'and with AUTH_ENABLED=false only listed origins may change state';
