// TEMPORARY minimal repository (replaced by branch defs): get and create only.
import type { Database } from 'better-sqlite3';
import type { WorkflowRecord } from '../protocol/index.js';
import { fromJson, toJson } from './json.js';

export interface WorkflowRepository {
  create(def: Omit<WorkflowRecord, 'version' | 'created_at' | 'updated_at'>, at: string): WorkflowRecord;
  get(name: string, version?: number): WorkflowRecord | undefined;
}

interface Row {
  name: string;
  version: number;
  description: string;
  input_schema: string | null;
  graph: string;
  created_at: string;
}

export function createWorkflowRepository(db: Database): WorkflowRepository {
  const insert = db.prepare<Row>(
    'INSERT INTO workflows (name, version, description, input_schema, graph, created_at) VALUES (@name, @version, @description, @input_schema, @graph, @created_at)',
  );
  const current = db.prepare<[string], Row>('SELECT * FROM workflows WHERE name = ? ORDER BY version DESC LIMIT 1');
  const one = db.prepare<[string, number], Row>('SELECT * FROM workflows WHERE name = ? AND version = ?');
  const toRecord = (r: Row): WorkflowRecord => ({
    name: r.name,
    version: r.version,
    description: r.description,
    input_schema: r.input_schema === null ? null : fromJson<Record<string, unknown>>(r.input_schema),
    graph: fromJson(r.graph),
    created_at: r.created_at,
    updated_at: r.created_at,
  });
  return {
    create(def, at) {
      insert.run({ ...def, version: 1, input_schema: def.input_schema === null ? null : toJson(def.input_schema), graph: toJson(def.graph), created_at: at });
      return toRecord(current.get(def.name)!);
    },
    get(name, version) {
      const row = version === undefined ? current.get(name) : one.get(name, version);
      return row && toRecord(row);
    },
  };
}
