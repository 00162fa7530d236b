// Publishes AuroraEvents on their subjects. The one way runtime code tells the world what happened.
import type { AuroraEvent, EventType } from '../actors/protocol.js';
import type { Bus } from './bus/bus.js';
import { isoNow, type Clock } from './clock.js';
import type { EventKind, Subjects } from './subjects.js';

export interface EventPublisher {
  publish(type: EventType, fields: { agent?: string; task_id?: string; payload?: Record<string, unknown> }): void;
}

export function createEventPublisher(bus: Bus, subjects: Subjects, clock: Clock): EventPublisher {
  return {
    publish(type, fields) {
      const kind = type.slice(0, type.indexOf('.')) as EventKind;
      const event: AuroraEvent = { type, time: isoNow(clock), payload: fields.payload ?? {} };
      if (fields.agent !== undefined) event.agent = fields.agent;
      if (fields.task_id !== undefined) event.task_id = fields.task_id;
      bus.publish(subjects.event(kind, type.slice(kind.length + 1), fields.agent), event);
    },
  };
}
