import type { Database } from 'better-sqlite3';
import type { AgentDefinition, AgentRecord, AgentStatus } from '../protocol/index.js';
import { AuroraError } from '../errors.js';
import { fromJson, toJson } from './json.js';

export interface AgentRepository {
  /** Throws AuroraError('agent_exists') when the name is taken. */
  insert(def: AgentDefinition, createdAt: string): AgentRecord;
  get(name: string): AgentRecord | undefined;
  /** Oldest first; ties broken by name so the order is stable. */
  list(): AgentRecord[];
  /** Also deletes the agent's tasks (ON DELETE CASCADE). False when there was no such agent. */
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

const COLUMNS = 'name, agent_type, model_name, provider, description, config, status, created_at, last_run';

export function createAgentRepository(db: Database): AgentRepository {
  // ON CONFLICT DO NOTHING turns "name taken" into changes === 0 rather than a SqliteError to decode.
  const insert = db.prepare<AgentRow>(
    `INSERT INTO agents (${COLUMNS})
     VALUES (@name, @agent_type, @model_name, @provider, @description, @config, @status, @created_at, @last_run)
     ON CONFLICT (name) DO NOTHING`,
  );
  const get = db.prepare<[string], AgentRow>(`SELECT ${COLUMNS} FROM agents WHERE name = ?`);
  const list = db.prepare<[], AgentRow>(`SELECT ${COLUMNS} FROM agents ORDER BY created_at, name`);
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
