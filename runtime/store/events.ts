import type { Database } from 'better-sqlite3';
import { AuroraError } from '../errors.js';
import type { AuroraEvent, StoredEvent } from '../protocol/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { fromJson, toJson } from './json.js';
import { shapedQuery } from './shaped-query.js';

export const DEFAULT_MAX_EVENTS = 10_000;

export interface EventPageQuery {
  /** A positive integer. */
  limit: number;
  cursor?: string;
  /** Exactly this type. */
  type?: string;
  /** Types starting with this ('supervisor.' for `supervisor.*`). */
  type_prefix?: string;
  agent?: string;
  /** ISO time as toISOString() writes it: events at or after it. */
  since?: string;
}

export interface EventPage {
  events: StoredEvent[];
  next_cursor: string | null;
}

/**
 * A bounded log of the events worth keeping across restarts (supervisor crashes, restarts,
 * escalations, lifecycle changes). Not for task.token: one row per token would be a write per token.
 */
export interface EventRepository {
  append(event: AuroraEvent): void;
  /** Newest first. */
  recent(limit: number): AuroraEvent[];
  /** Newest first (by id), a page at a time. */
  page(query: EventPageQuery): EventPage;
  /** Deletes all but the newest maxEvents; returns how many went. append() calls it every so often. */
  prune(): number;
  count(): number;
}

interface EventRow {
  id?: number;
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
  // events_by_type and events_by_agent end with id, so an exact type or an agent walks its index in
  // page order; a type prefix is a range on events_by_type and sorts what it finds, which the
  // retention bound keeps small.
  const pages = shapedQuery<EventRow & { id: number }>(db, (filters) => {
    const where = filters.map((f) => PAGE_FILTERS[f as PageFilter]);
    return `SELECT id, type, time, agent, task_id, payload FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
            ORDER BY id DESC LIMIT @limit`;
  });

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
    page({ limit, cursor, type, type_prefix, agent, since }) {
      if (!Number.isSafeInteger(limit) || limit < 1) {
        throw new AuroraError('invalid_request', `limit must be a positive integer, got ${limit}`);
      }
      const filters: PageFilter[] = [];
      const params: Record<string, unknown> = { limit: limit + 1 };
      if (type !== undefined) {
        filters.push('type');
        params.type = type;
      }
      if (type_prefix !== undefined && type_prefix !== '') {
        filters.push('type_prefix');
        params.type_from = type_prefix;
        params.type_to = nextString(type_prefix);
      }
      if (agent !== undefined) {
        filters.push('agent');
        params.agent = agent;
      }
      if (since !== undefined) {
        filters.push('since');
        params.since = since;
      }
      if (cursor !== undefined) {
        filters.push('cursor');
        params.id = decodeCursor('events', cursor, ['n'])[0];
      }
      const rows = pages.statement(filters).all(params);
      const last = rows.length > limit ? rows[limit - 1] : undefined;
      return {
        events: rows.slice(0, limit).map((row) => ({ id: row.id, ...toEvent(row) })),
        next_cursor: last === undefined ? null : encodeCursor('events', [last.id]),
      };
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

/** Page filters, in the order their statements are keyed by. */
const PAGE_FILTERS = {
  type: 'type = @type',
  type_prefix: 'type >= @type_from AND type < @type_to',
  agent: 'agent = @agent',
  since: 'time >= @since',
  cursor: 'id < @id',
} as const;
type PageFilter = keyof typeof PAGE_FILTERS;

/** The least string greater than every string starting with `prefix`. */
function nextString(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function toEvent(row: EventRow): AuroraEvent {
  // Optional fields are left out rather than set to undefined, so the event equals what was appended.
  const payload = fromJson<Record<string, unknown>>(row.payload);
  const event: AuroraEvent = { type: row.type, time: row.time, payload };
  if (row.agent !== null) event.agent = row.agent;
  if (row.task_id !== null) event.task_id = row.task_id;
  return event;
}
