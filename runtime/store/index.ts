export { openStore, type Store, type StoreOptions } from './store.js';
export { committed, durable } from './durable.js';
export { AGENT_SCAN_MAX, type AgentPage, type AgentPageQuery, type AgentRepository } from './agents.js';
export type { ModelRepository } from './models.js';
export { MAX_KEPT_PULLS, type PullRepository } from './pulls.js';
export { DEFAULT_MAX_EVENTS, type EventPage, type EventPageQuery, type EventRepository } from './events.js';
export {
  INTERRUPTED_ERROR_CODE,
  type TaskCompletion,
  type TaskFailure,
  type TaskListQuery,
  type TaskPage,
  type TaskRepository,
} from './tasks.js';
export type { ThreadPageQuery, ThreadRepository } from './threads.js';
export type { IdempotencyEntry, IdempotencyRepository } from './idempotency.js';
export type { RunPageQuery, RunRepository, RunRow, StepStart } from './runs.js';
export type { WorkflowPage, WorkflowPageQuery, WorkflowRepository } from './workflows.js';
