// Message shapes shared by the gateway and the runtime. Types only: no behaviour lives here.
import type { ErrorPayload } from '../runtime/errors.js';

export const AGENT_STATUSES = ['idle', 'running', 'restarting', 'failed', 'stopped'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const TASK_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Agent kinds and the providers each accepts. actors/catalog.ts gives each kind its machine. */
export const AGENT_KIND_PROVIDERS = { llm: ['ollama'] } as const;
export const AGENT_KIND_NAMES = Object.keys(AGENT_KIND_PROVIDERS) as (keyof typeof AGENT_KIND_PROVIDERS)[];
export const PROVIDER_NAMES = [...new Set(Object.values(AGENT_KIND_PROVIDERS).flat())];

export const AGENT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

export interface AgentDefinition {
  name: string;
  agent_type: string;
  model_name: string;
  provider: string;
  description: string;
  config: Record<string, unknown>;
}

export interface AgentRecord extends AgentDefinition {
  status: AgentStatus;
  created_at: string;
  last_run: string | null;
}

export interface TaskParameters {
  system?: string;
  temperature?: number;
  max_tokens?: number;
  seed?: number;
  timeout_ms?: number;
  /** How many times a task is run again when the agent crashes under it. */
  retries?: number;
}

export interface TaskRequest {
  task_id: string;
  agent: string;
  prompt: string;
  parameters: TaskParameters;
}

export interface TaskTimings {
  queued_ms: number;
  total_duration_ms: number | null;
  load_duration_ms: number | null;
  prompt_eval_duration_ms: number | null;
  eval_duration_ms: number | null;
}

export interface TaskResult {
  task_id: string;
  agent: string;
  result: string;
  status: 'completed';
  model: string;
  provider: string;
  tokens_used: number;
  prompt_tokens: number;
  completion_tokens: number;
  completed_at: string;
  duration_ms: number;
  timings: TaskTimings;
}

export interface TaskRecord {
  task_id: string;
  agent: string;
  prompt: string;
  parameters: TaskParameters;
  status: TaskStatus;
  result: string | null;
  error: string | null;
  error_code: string | null;
  model: string | null;
  provider: string | null;
  tokens_used: number | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  duration_ms: number | null;
  timings: TaskTimings | null;
}

export interface LoadedModel {
  name: string;
  provider: string;
  loaded_at: string;
}

/** Every reply on the bus is one of these, so errors cross the wire as values. */
export type Reply<T> = { ok: true; data: T } | { ok: false; error: ErrorPayload };

export const EVENT_TYPES = [
  'agent.created',
  'agent.deleted',
  'agent.status',
  'task.queued',
  'task.started',
  'task.token',
  'task.completed',
  'task.failed',
  'task.cancelled',
  'supervisor.crash',
  'supervisor.restart',
  'supervisor.escalation',
  'supervisor.failed',
  'model.loaded',
  'model.unloaded',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface AuroraEvent {
  type: EventType;
  time: string;
  agent?: string;
  task_id?: string;
  payload: Record<string, unknown>;
}

// ---- Requests and replies on the service subjects (see runtime/subjects.ts) ----

export interface ModelStatus {
  name: string;
  provider: string;
  installed: boolean;
  loaded: boolean;
  loaded_at: string | null;
  size_bytes: number | null;
  expires_at: string | null;
}

export interface HealthReport {
  database: boolean;
  llm: boolean;
}

/** subject → [request, reply]. The gateway and the services both type against this map. */
export interface ServiceProtocol {
  'registry.create': [AgentDefinition, AgentRecord];
  'registry.get': [{ name: string }, AgentRecord];
  'registry.list': [Record<string, never>, AgentRecord[]];
  'registry.delete': [{ name: string }, { name: string }];
  'registry.restart': [{ name: string }, AgentRecord];
  'registry.fault': [{ name: string }, { name: string }];
  'models.list': [Record<string, never>, LoadedModel[]];
  'models.installed': [Record<string, never>, { name: string; size_bytes: number | null }[]];
  'models.load': [{ name: string; provider: string; config: Record<string, unknown> }, LoadedModel];
  'models.unload': [{ name: string; provider: string }, { name: string; provider: string }];
  'models.status': [{ name: string; provider: string }, ModelStatus];
  'tasks.get': [{ task_id: string }, TaskRecord];
  'tasks.list': [{ agent?: string; status?: TaskStatus; limit: number }, TaskRecord[]];
  'tasks.cancel': [{ task_id: string }, { task_id: string; status: TaskStatus }];
  'agent.task': [TaskRequest, TaskResult];
  'agent.cancel': [{ task_id: string }, { task_id: string; status: TaskStatus }];
  'health.check': [Record<string, never>, HealthReport];
}
