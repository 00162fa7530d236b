// Publishes AuroraEvents on their subjects. The one way runtime code tells the world what happened.
import type { Bus } from './bus/bus.js';
import { isoAt, type Clock } from './clock.js';
import type { AuroraEvent, RunTrace } from './protocol/index.js';
import type { Subjects } from './subjects.js';

/**
 * Published events that are also written to the node's event log (GET /api/v1/events), beside
 * the supervisor.* events the supervisor tree appends itself: the agent lifecycle and model
 * changes, a handful a minute. Not task.* (the tasks table is their record; a row per task event,
 * let alone per token, would add writes to every task) nor agent.status (it moves with every
 * task that starts or ends).
 */
export function isLoggedEvent(type: string): boolean {
  return LOGGED_TYPES.has(type) || type.startsWith('model.');
}
const LOGGED_TYPES: ReadonlySet<string> = new Set(['agent.created', 'agent.updated', 'agent.deleted']);

/** Where logged events go (the store's event log). */
export interface EventLog {
  append(event: AuroraEvent): void;
}

export interface EventPublisher {
  /** `type`: a core event type or one an agent kind declares (`<kind>.<name>`). */
  publish(type: string, fields: { agent?: string; task_id?: string; payload?: Record<string, unknown>; trace?: RunTrace }): void;
}

/** The subject of one event type, remembered for the agent it was last built for. */
interface SubjectMemo {
  agent: string | undefined;
  subject: string;
}

/** `log`: also appends the events isLoggedEvent() names to it. */
export function createEventPublisher(bus: Bus, subjects: Subjects, clock: Clock, log?: EventLog): EventPublisher {
  // A streaming task publishes one task.token per token, all for the same agent: its subject is
  // built once per run of tokens instead of once per token. One entry per event type (a fixed
  // set: the core types and those the kinds declare), so this never grows with the number of agents.
  const memo = new Map<string, SubjectMemo>();
  const subjectOf = (type: string, agent: string | undefined): string => {
    const hit = memo.get(type);
    if (hit !== undefined && hit.agent === agent) return hit.subject;
    const dot = type.indexOf('.');
    const subject = subjects.event(type.slice(0, dot), type.slice(dot + 1), agent);
    if (hit !== undefined) {
      hit.agent = agent;
      hit.subject = subject;
    } else {
      memo.set(type, { agent, subject });
    }
    return subject;
  };
  return {
    publish(type, fields) {
      const event: AuroraEvent = { type, time: isoAt(clock.now()), payload: fields.payload ?? {} };
      if (fields.agent !== undefined) event.agent = fields.agent;
      if (fields.task_id !== undefined) event.task_id = fields.task_id;
      if (fields.trace !== undefined) stampRun(event, fields.trace);
      if (log !== undefined && isLoggedEvent(type)) log.append(event);
      bus.publish(subjectOf(type, fields.agent), event);
    },
  };
}

/** The run fields of an event of a traced task. */
export function stampRun(event: AuroraEvent, trace: RunTrace): void {
  const { lineage } = trace;
  event.run_id = trace.run_id;
  event.root_run_id = lineage[0]!;
  if (lineage.length > 1) event.parent_run_id = lineage[lineage.length - 2]!;
  event.path = trace.path;
  event.lineage = lineage;
}
