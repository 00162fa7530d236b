// Every bus subject is built here; no subject literal appears anywhere else. Service subjects are
// the operation keys of runtime/protocol/operations.ts under the namespace.
//
// Agent names may contain '.', which NATS reads as a token separator, so a name becomes one
// subject token by mapping '.' to '~' (names cannot contain '~', so the mapping is reversible).
import type { AgentOperation, OperationOf, ServiceKey, ServiceName } from './protocol/index.js';

/** The first word of an event type (`task` of `task.completed`): a subject token. */
export type EventKind = string;

export function nameToken(name: string): string {
  return name.replaceAll('.', '~');
}

export function tokenToName(token: string): string {
  return token.replaceAll('~', '.');
}

export function createSubjects(namespace: string) {
  const ns = namespace;
  return {
    namespace: ns,
    /** Request/reply subject of a service operation. */
    service: (key: ServiceKey) => `${ns}.${key}`,
    /** An operation on one agent, served by the node hosting it: `<ns>.agent.<token>.<op>`. */
    agent: (name: string, op: AgentOperation) => `${ns}.agent.${nameToken(name)}.${op}`,
    /** Request: run one task on an agent. Served by the node hosting that agent. */
    agentTask: (agent: string) => `${ns}.agent.${nameToken(agent)}.task`,
    agentCancel: (agent: string) => `${ns}.agent.${nameToken(agent)}.cancel`,
    /** Wildcard an agent node listens on for every agent it may host. */
    agentAny: () => `${ns}.agent.*.*`,
    /** Registry service: create, get, list, delete, restart agents. */
    registry: (op: OperationOf<'registry'>) => `${ns}.registry.${op}`,
    /** Model manager service. */
    models: (op: OperationOf<'models'>) => `${ns}.models.${op}`,
    /** Task history and cancellation by id. */
    tasks: (op: OperationOf<'tasks'>) => `${ns}.tasks.${op}`,
    /** Health of the runtime side (store, provider) as seen by the node. */
    health: () => `${ns}.health.check`,
    /** Events: `<ns>.events.<kind>.<agent token or '_'>.<name>` for the event type `<kind>.<name>`. */
    event: (kind: string, name: string, agent?: string) =>
      `${ns}.events.${kind}.${agent === undefined ? '_' : nameToken(agent)}.${name}`,
    // Three tokens at least (kind, agent, name): `events.list`, a service operation, is not an event.
    eventsAll: () => `${ns}.events.*.*.>`,
    /** Every event of one agent, of any type (a task's events are among its agent's). */
    agentEvents: (agent: string) => `${ns}.events.*.${nameToken(agent)}.>`,
    /** Queue group of a service: its instances on every node share the requests. */
    queue: (service: ServiceName | 'registry') => `${ns}-${service}`,
  } as const;
}

export type Subjects = ReturnType<typeof createSubjects>;
