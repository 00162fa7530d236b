import type { Database } from 'better-sqlite3';
import type { AgentDefinition, AgentRecord, AgentStatus } from '../protocol/index.js';
import { AuroraError } from '../errors.js';
import { newId } from '../ids.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { fromJson, toJson } from './json.js';
import { shapedQuery } from './shaped-query.js';

export interface AgentPageQuery {
  /** A positive integer. */
  limit: number;
  cursor?: string;
  /** agent_type */
  kind?: string;
  /** model_name */
  model?: string;
  /**
   * Keeps only the agents it accepts (the registry's live status: SQLite does not hold it). With
   * it, a page examines at most AGENT_SCAN_MAX rows and may hold fewer than `limit` agents while
   * `next_cursor` is still set; follow it until it is null.
   */
  accept?: (agent: { name: string; status: AgentStatus }) => boolean;
}

export interface AgentPage {
  agents: AgentRecord[];
  next_cursor: string | null;
}

/** Rows one filtered page may examine, so a rare status cannot make one request scan 100,000 agents. */
export const AGENT_SCAN_MAX = 10_000;

export interface AgentRepository {
  /** Throws AuroraError('agent_exists') when the name is taken. The agent gets a new agent_id. */
  insert(def: AgentDefinition, createdAt: string): AgentRecord;
  get(name: string): AgentRecord | undefined;
  /** Oldest first; ties broken by name so the order is stable. Every agent: for restoring them at start. */
  list(): AgentRecord[];
  /** Oldest first (created_at, then name), a page at a time. */
  page(query: AgentPageQuery): AgentPage;
  /** The agent only: its tasks and threads outlive it. False when there was no such agent. */
  delete(name: string): boolean;
  /** Replaces what a PATCH may change; undefined when there is no such agent. */
  update(name: string, changes: Pick<AgentDefinition, 'description' | 'model_name' | 'config'>): AgentRecord | undefined;
  /** False when there is no such agent. */
  setStatus(name: string, status: AgentStatus): boolean;
  /** False when there is no such agent. */
  touchLastRun(name: string, at: string): boolean;
}

/** An agent as stored: the record with its config still as JSON text. */
type AgentRow = Omit<AgentRecord, 'config'> & { config: string };
/** The same columns as an array, in COLUMNS order: what page statements return. */
type AgentTuple = [
  name: string,
  agent_id: string,
  agent_type: string,
  model_name: string,
  provider: string,
  description: string,
  config: string,
  status: AgentStatus,
  created_at: string,
  last_run: string | null,
];

const COLUMNS = 'name, agent_id, agent_type, model_name, provider, description, config, status, created_at, last_run';

/** Page filters, in the order their statements are keyed by. */
const FILTERS = {
  kind: 'agent_type = @kind',
  model: 'model_name = @model',
  cursor: '(created_at, name) > (@at, @name)',
} as const;
type Filter = keyof typeof FILTERS;

export function createAgentRepository(db: Database): AgentRepository {
  // ON CONFLICT DO NOTHING turns "name taken" into changes === 0 rather than a SqliteError to decode.
  const insert = db.prepare<AgentRow>(
    `INSERT INTO agents (${COLUMNS})
     VALUES (@name, @agent_id, @agent_type, @model_name, @provider, @description, @config, @status, @created_at, @last_run)
     ON CONFLICT (name) DO NOTHING`,
  );
  const get = db.prepare<[string], AgentRow>(`SELECT ${COLUMNS} FROM agents WHERE name = ?`);
  const list = db.prepare<[], AgentRow>(`SELECT ${COLUMNS} FROM agents ORDER BY created_at, name`);
  // Every shape walks an index in order (agents_by_created, _by_kind, _by_model): no sort, no OFFSET.
  // Rows come as arrays (raw): with 100 agents a page, building row objects and then records from
  // them cost three times what reading the columns does.
  const pages = shapedQuery<AgentTuple>(db, (filters) => {
    const where = filters.map((f) => FILTERS[f as Filter]);
    return `SELECT ${COLUMNS} FROM agents ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
            ORDER BY created_at, name LIMIT @limit`;
  }, { raw: true });
  const remove = db.prepare<[string]>('DELETE FROM agents WHERE name = ?');
  const setStatus = db.prepare<[AgentStatus, string]>('UPDATE agents SET status = ? WHERE name = ?');
  const update = db.prepare<{ name: string; description: string; model_name: string; config: string }>(
    'UPDATE agents SET description = @description, model_name = @model_name, config = @config WHERE name = @name',
  );
  const touchLastRun = db.prepare<[string, string]>('UPDATE agents SET last_run = ? WHERE name = ?');

  return {
    insert(def, createdAt) {
      const record: AgentRecord = {
        name: def.name,
        agent_id: newId(),
        agent_type: def.agent_type,
        model_name: def.model_name,
        provider: def.provider,
        description: def.description,
        config: {},
        status: 'idle',
        created_at: createdAt,
        last_run: null,
      };
      const config = toJson(def.config);
      const { changes } = insert.run({ ...record, config });
      if (changes === 0) throw new AuroraError('agent_exists', `Agent ${def.name} already exists`);
      // Hand back what a later get() would return, so callers never hold a config the database would not.
      return { ...record, config: fromJson(config) };
    },
    get(name) {
      const row = get.get(name);
      return row && toRecord(row);
    },
    list() {
      return list.all().map(toRecord);
    },
    page({ limit, cursor, kind, model, accept }) {
      if (!Number.isSafeInteger(limit) || limit < 1) {
        throw new AuroraError('invalid_request', `limit must be a positive integer, got ${limit}`);
      }
      const filters: Filter[] = [];
      const params: Record<string, unknown> = {};
      if (kind !== undefined) {
        filters.push('kind');
        params.kind = kind;
      }
      if (model !== undefined) {
        filters.push('model');
        params.model = model;
      }
      if (cursor !== undefined) {
        const [at, name] = decodeCursor('agents', cursor, ['s', 's']);
        filters.push('cursor');
        params.at = at;
        params.name = name;
      }
      const stmt = pages.statement(filters);
      const keyOf = (row: AgentTuple) => encodeCursor('agents', [row[8], row[0]]);
      if (accept === undefined) {
        // One row past the page tells whether another page exists.
        const rows = stmt.all({ ...params, limit: limit + 1 });
        const agents = rows.slice(0, limit);
        return { agents: agents.map(tupleToRecord), next_cursor: rows.length > limit ? keyOf(agents.at(-1)!) : null };
      }
      const kept: AgentTuple[] = [];
      let examined = 0;
      let last: AgentTuple | undefined;
      let acceptedBeyond = false;
      for (const row of stmt.iterate({ ...params, limit: AGENT_SCAN_MAX })) {
        examined += 1;
        if (accept({ name: row[0], status: row[7] })) {
          if (kept.length === limit) {
            acceptedBeyond = true;
            break;
          }
          kept.push(row);
        }
        last = row;
      }
      if (acceptedBeyond) return { agents: kept.map(tupleToRecord), next_cursor: keyOf(kept.at(-1)!) };
      // The scan bound ended the page: the next one starts after the last row examined.
      return { agents: kept.map(tupleToRecord), next_cursor: examined === AGENT_SCAN_MAX && last !== undefined ? keyOf(last) : null };
    },
    delete(name) {
      return remove.run(name).changes > 0;
    },
    update(name, changes) {
      const { changes: n } = update.run({ name, ...changes, config: toJson(changes.config) });
      if (n === 0) return undefined;
      const row = get.get(name);
      return row && toRecord(row);
    },
    setStatus(name, status) {
      return setStatus.run(status, name).changes > 0;
    },
    touchLastRun(name, at) {
      return touchLastRun.run(at, name).changes > 0;
    },
  };
}

function toRecord(row: AgentRow): AgentRecord {
  return { ...row, config: fromJson<Record<string, unknown>>(row.config) };
}

/** One literal in one property order, so every record of a page shares one shape. */
function tupleToRecord(row: AgentTuple): AgentRecord {
  return {
    name: row[0],
    agent_id: row[1],
    agent_type: row[2],
    model_name: row[3],
    provider: row[4],
    description: row[5],
    config: row[6] === EMPTY_CONFIG ? {} : fromJson<Record<string, unknown>>(row[6]),
    status: row[7],
    created_at: row[8],
    last_run: row[9],
  };
}
/** What most agents are created with: no need to parse it. */
const EMPTY_CONFIG = '{}';
