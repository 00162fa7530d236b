import type { Database } from 'better-sqlite3';
import type { AuroraEvent } from '../protocol/index.js';
import { fromJson, toJson } from './json.js';

export const DEFAULT_MAX_EVENTS = 10_000;

/**
 * A bounded log of the events worth keeping across restarts (supervisor crashes, restarts,
 * escalations, lifecycle changes). Not for task.token: one row per token would be a write per token.
 */
export interface EventRepository {
  append(event: AuroraEvent): void;
  /** Newest first. */
  recent(limit: number): AuroraEvent[];
  /** Deletes all but the newest maxEvents; returns how many went. append() calls it every so often. */
  prune(): number;
  count(): number;
}

interface EventRow {
  type: string;
  time: string;
  agent: string | null;
  task_id: string | null;
  payload: string;
}

/**
 * Pruning is a range delete, too costly for every insert, so it runs once every `pruneEvery`
 * appends (a tenth of the bound). The table therefore never holds more than
 * maxEvents + pruneEvery - 1 rows.
 */
export function createEventRepository(db: Database, maxEvents: number): EventRepository {
  if (!Number.isSafeInteger(maxEvents) || maxEvents < 1) {
    throw new RangeError(`maxEvents must be a positive integer, got ${maxEvents}`);
  }
  const pruneEvery = Math.max(1, Math.ceil(maxEvents / 10));
  let appendsSincePrune = 0;

  const insert = db.prepare<EventRow>(
    'INSERT INTO events (type, time, agent, task_id, payload) VALUES (@type, @time, @agent, @task_id, @payload)',
  );
  const recent = db.prepare<[number], EventRow>(
    'SELECT type, time, agent, task_id, payload FROM events ORDER BY id DESC LIMIT ?',
  );
  // The id of the oldest row to keep; everything older goes. No such row (fewer than maxEvents
  // rows) yields NULL and deletes nothing.
  const prune = db.prepare<[number]>(
    'DELETE FROM events WHERE id < (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)',
  );
  const count = db.prepare<[], number>('SELECT count(*) FROM events').pluck();

  const repo: EventRepository = {
    append(event) {
      insert.run({
        type: event.type,
        time: event.time,
        agent: event.agent ?? null,
        task_id: event.task_id ?? null,
        payload: toJson(event.payload),
      });
      if (++appendsSincePrune >= pruneEvery) repo.prune();
    },
    recent(limit) {
      if (!Number.isSafeInteger(limit) || limit < 1) {
        throw new RangeError(`limit must be a positive integer, got ${limit}`);
      }
      return recent.all(limit).map(toEvent);
    },
    prune() {
      appendsSincePrune = 0;
      return prune.run(maxEvents - 1).changes;
    },
    count() {
      return count.get() ?? 0;
    },
  };
  return repo;
}

function toEvent(row: EventRow): AuroraEvent {
  // Optional fields are left out rather than set to undefined, so the event equals what was appended.
  const payload = fromJson<Record<string, unknown>>(row.payload);
  const event: AuroraEvent = { type: row.type, time: row.time, payload };
  if (row.agent !== null) event.agent = row.agent;
  if (row.task_id !== null) event.task_id = row.task_id;
  return event;
}
