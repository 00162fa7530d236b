// Every bus subject is built here; no subject literal appears anywhere else.
//
// Agent names may contain '.', which NATS reads as a token separator, so a name becomes one
// subject token by mapping '.' to '~' (names cannot contain '~', so the mapping is reversible).

export const EVENT_KINDS = ['agent', 'task', 'supervisor', 'model'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

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
    /** Request: run one task on an agent. Served by the node hosting that agent. */
    agentTask: (agent: string) => `${ns}.agent.${nameToken(agent)}.task`,
    agentCancel: (agent: string) => `${ns}.agent.${nameToken(agent)}.cancel`,
    agentStatus: (agent: string) => `${ns}.agent.${nameToken(agent)}.status`,
    /** Wildcard an agent node listens on for every agent it may host. */
    agentAny: () => `${ns}.agent.*.*`,
    /** Registry service: create, get, list, delete, restart agents. */
    registry: (op: 'create' | 'get' | 'list' | 'delete' | 'restart' | 'fault') => `${ns}.registry.${op}`,
    /** Model manager service. */
    models: (op: 'list' | 'load' | 'unload' | 'status' | 'installed') => `${ns}.models.${op}`,
    /** Task history and cancellation by id. */
    tasks: (op: 'get' | 'list' | 'cancel') => `${ns}.tasks.${op}`,
    /** Health of the runtime side (store, provider) as seen by the node. */
    health: () => `${ns}.health.check`,
    /** Events: <ns>.events.<kind>.<agent token or '_'>.<type> */
    event: (kind: EventKind, type: string, agent?: string) =>
      `${ns}.events.${kind}.${agent === undefined ? '_' : nameToken(agent)}.${type}`,
    eventsAll: () => `${ns}.events.>`,
    /** Queue group of a service: its instances on every node share the requests. */
    queue: (service: 'registry' | 'models' | 'health') => `${ns}-${service}`,
  } as const;
}

export type Subjects = ReturnType<typeof createSubjects>;
