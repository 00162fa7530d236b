// The service operations, declared once: each key is its bus subject (under the namespace), its
// first word the service that answers it, and its request and reply are schemas, so the types,
// the subjects (runtime/subjects.ts) and the gateway's client all derive from this table.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AgentDefinition, AgentListQuery, AgentPage, AgentRecord } from './agents.js';
import { EventListQuery, EventPage } from './events.js';
import { Nullable, NullableObject } from './common.js';
import { ThreadDetail, ThreadPage, ThreadRecord } from './threads.js';
import { IdempotencyClaim, IdempotencyClaimed, IdempotencyRelease, IdempotencySettle, TaskSubmitted } from './idempotency.js';
import { InstalledModel, LoadedModel, ModelRef, ModelStatus } from './models.js';
import { PullCommand, PullRecord, PullRef } from './pulls.js';
import { RunListQuery, RunPage, RunRef, RunStartCommand, RunStarted } from './runs.js';
import {
  RunRecord,
  WorkflowCreateRequest,
  WorkflowDeleted,
  WorkflowGetCommand,
  WorkflowListCommand,
  WorkflowPage,
  WorkflowRecord,
  WorkflowUpdateCommand,
} from './workflows.js';
import { SupervisionTree } from './supervision.js';
import { ArtifactContent } from './browser.js';
import { TaskCancelled, TaskListQuery, TaskPage, TaskRecord, TaskRequest, TaskResult } from './tasks.js';

const Empty = Type.Object({});
const NameRef = Type.Object({ name: Type.String() });
const TaskRef = Type.Object({ task_id: Type.String() });

export const HealthReport = Type.Object({ database: Type.Boolean(), llm: Type.Boolean() });
export type HealthReport = Static<typeof HealthReport>;

export const AgentUpdateCommand = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  model_name: Type.Optional(Type.String()),
  config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

/** `purge`: its tasks and threads go too; otherwise they outlive it. */
const AgentDeleteCommand = Type.Object({ name: Type.String(), purge: Type.Optional(Type.Boolean()) });
const AgentDeleteResult = Type.Object({
  name: Type.String(),
  agent_id: Type.String(),
  /** Null unless purged. */
  tasks_deleted: Nullable('integer'),
  threads_deleted: Nullable('integer'),
});

const ThreadCreateCommand = Type.Object({ agent: Type.String(), title: Nullable('string') });
const ThreadRef = Type.Object({ thread_id: Type.String() });
const ThreadGetCommand = Type.Object({ thread_id: Type.String(), limit: Type.Integer({ minimum: 1 }) });
const ThreadListCommand = Type.Object({ agent: Type.String(), limit: Type.Integer({ minimum: 1 }), cursor: Type.Optional(Type.String()) });

export const ModelLoadCommand = Type.Object({
  name: Type.String(),
  provider: Type.String(),
  config: Type.Record(Type.String(), Type.Unknown()),
});

interface Operation<Req extends TSchema, Res extends TSchema> {
  readonly request: Req;
  readonly reply: Res;
}
const op = <Req extends TSchema, Res extends TSchema>(request: Req, reply: Res): Operation<Req, Res> => ({ request, reply });

/** Served by whichever node's service instance the queue group picks. */
export const SERVICE_OPERATIONS = {
  'registry.create': op(AgentDefinition, AgentRecord),
  'registry.get': op(NameRef, AgentRecord),
  'registry.list': op(AgentListQuery, AgentPage),
  'registry.delete': op(AgentDeleteCommand, AgentDeleteResult),
  'registry.restart': op(NameRef, AgentRecord),
  'registry.fault': op(NameRef, NameRef),
  'registry.update': op(AgentUpdateCommand, AgentRecord),
  'threads.create': op(ThreadCreateCommand, ThreadRecord),
  'threads.get': op(ThreadGetCommand, ThreadDetail),
  'threads.delete': op(ThreadRef, ThreadRef),
  'threads.list': op(ThreadListCommand, ThreadPage),
  'workflows.create': op(WorkflowCreateRequest, WorkflowRecord),
  /** The current version, or `version`. */
  'workflows.get': op(WorkflowGetCommand, WorkflowRecord),
  'workflows.list': op(WorkflowListCommand, WorkflowPage),
  /** A new version: the current one plus one. */
  'workflows.update': op(WorkflowUpdateCommand, WorkflowRecord),
  /** Every version. */
  'workflows.delete': op(NameRef, WorkflowDeleted),
  'models.list': op(Empty, Type.Array(LoadedModel)),
  'models.installed': op(Empty, Type.Array(InstalledModel)),
  'models.load': op(ModelLoadCommand, LoadedModel),
  'models.unload': op(ModelRef, ModelRef),
  'models.status': op(ModelRef, ModelStatus),
  'tasks.get': op(TaskRef, TaskRecord),
  'tasks.list': op(TaskListQuery, TaskPage),
  'tasks.cancel': op(TaskRef, TaskCancelled),
  /** Answers once the task has ended (or after timeout_ms, with the task as it is then). */
  'tasks.wait': op(Type.Object({ task_id: Type.String(), timeout_ms: Type.Integer({ minimum: 1 }) }), TaskRecord),
  'idempotency.claim': op(IdempotencyClaim, IdempotencyClaimed),
  'idempotency.settle': op(IdempotencySettle, Empty),
  'idempotency.release': op(IdempotencyRelease, Empty),
  'events.list': op(EventListQuery, EventPage),
  'health.check': op(Empty, HealthReport),
  /** The node's supervisors and children, with restart counts and last crashes. */
  'supervision.tree': op(Empty, SupervisionTree),
  // null: `if_missing` and the provider already has the model.
  'models.pull': op(PullCommand, NullableObject(PullRecord)),
  'models.pull_get': op(PullRef, PullRecord),
  'models.pull_cancel': op(PullRef, PullRecord),
  /** Prepares a run (its record, its workflow agent) and hands it to that agent; answers once accepted. */
  'runs.start': op(RunStartCommand, RunStarted),
  'runs.get': op(RunRef, RunRecord),
  'runs.list': op(RunListQuery, RunPage),
  'runs.cancel': op(RunRef, RunRecord),
  'artifacts.get': op(Type.Object({ artifact_id: Type.String() }), ArtifactContent),
} as const;

/** Served by the node hosting the agent, on the agent's own subject. */
export const AGENT_OPERATIONS = {
  task: op(TaskRequest, TaskResult),
  /** Accepts a task into the mailbox and answers at once (once its row is committed). */
  submit: op(TaskRequest, TaskSubmitted),
  cancel: op(TaskRef, TaskCancelled),
} as const;

export type ServiceKey = keyof typeof SERVICE_OPERATIONS;
export type AgentOperation = keyof typeof AGENT_OPERATIONS;
export const SERVICE_KEYS = Object.keys(SERVICE_OPERATIONS) as ServiceKey[];

/** The services that answer operations; each is one queue group. */
export type ServiceName = ServiceKey extends `${infer S}.${string}` ? S : never;
/** The operations of one service: OperationOf<'models'> = 'list' | 'installed' | … */
export type OperationOf<S extends ServiceName> = ServiceKey extends infer K
  ? K extends `${S}.${infer O}`
    ? O
    : never
  : never;

type Ops = typeof SERVICE_OPERATIONS;
export type RequestOf<K extends ServiceKey> = Static<Ops[K]['request']>;
export type ReplyOf<K extends ServiceKey> = Static<Ops[K]['reply']>;
export type AgentRequestOf<K extends AgentOperation> = Static<(typeof AGENT_OPERATIONS)[K]['request']>;
export type AgentReplyOf<K extends AgentOperation> = Static<(typeof AGENT_OPERATIONS)[K]['reply']>;
