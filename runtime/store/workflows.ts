// Workflow definitions, every version kept: a PUT adds a row with the next version, and the current
// definition is the highest. Runs copy the graph they start with (workflow_runs.graph), so no run
// depends on a version staying here, and deleting a workflow deletes all its versions.
import type { Database } from 'better-sqlite3';
import { AuroraError } from '../errors.js';
import type { WorkflowDefinition, WorkflowNode, WorkflowRecord } from '../protocol/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { fromJson, fromJsonOrNull, toJson } from './json.js';

export interface WorkflowPageQuery {
  limit: number;
  cursor?: string;
}

export interface WorkflowPage {
  workflows: WorkflowRecord[];
  next_cursor: string | null;
}

export interface WorkflowRepository {
  /** Version 1. Throws workflow_exists when the name has any version. */
  create(definition: WorkflowDefinition, at: string): WorkflowRecord;
  /** The next version (current + 1). Throws workflow_not_found when the name has none. */
  update(definition: WorkflowDefinition, at: string): WorkflowRecord;
  /** The current version, or the given one; undefined when there is no such workflow or version. */
  get(name: string, version?: number): WorkflowRecord | undefined;
  /** Current versions by name, a page at a time. */
  page(query: WorkflowPageQuery): WorkflowPage;
  /** Deletes every version; returns how many there were (0: no such workflow). */
  delete(name: string): number;
}

interface Row {
  name: string;
  version: number;
  description: string;
  input_schema: string | null;
  graph: string;
  /** This version's time. */
  updated_at: string;
  /** Version 1's time: the workflow's. */
  created_at: string;
}

// The workflow's creation time is its lowest version's (the primary key index finds it at once).
const COLUMNS = `w.name, w.version, w.description, w.input_schema, w.graph, w.created_at AS updated_at,
  (SELECT f.created_at FROM workflows f WHERE f.name = w.name ORDER BY f.version LIMIT 1) AS created_at`;
const IS_CURRENT = 'NOT EXISTS (SELECT 1 FROM workflows n WHERE n.name = w.name AND n.version > w.version)';

export function createWorkflowRepository(db: Database): WorkflowRepository {
  // One statement each, so two writers cannot both take version 1 or the same next version.
  const insertFirst = db.prepare<Row>(
    `INSERT INTO workflows (name, version, description, input_schema, graph, created_at)
     VALUES (@name, 1, @description, @input_schema, @graph, @updated_at) ON CONFLICT DO NOTHING`,
  );
  const insertNext = db.prepare<Omit<Row, 'version' | 'created_at'>, number>(
    `INSERT INTO workflows (name, version, description, input_schema, graph, created_at)
     SELECT @name, max(version) + 1, @description, @input_schema, @graph, @updated_at FROM workflows WHERE name = @name
     HAVING count(*) > 0
     RETURNING version`,
  ).pluck();
  const current = db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM workflows w WHERE w.name = ? ORDER BY w.version DESC LIMIT 1`);
  const version = db.prepare<[string, number], Row>(`SELECT ${COLUMNS} FROM workflows w WHERE w.name = ? AND w.version = ?`);
  const firstPage = db.prepare<[number], Row>(`SELECT ${COLUMNS} FROM workflows w WHERE ${IS_CURRENT} ORDER BY w.name LIMIT ?`);
  const nextPage = db.prepare<[string, number], Row>(
    `SELECT ${COLUMNS} FROM workflows w WHERE w.name > ? AND ${IS_CURRENT} ORDER BY w.name LIMIT ?`,
  );
  const remove = db.prepare<[string]>('DELETE FROM workflows WHERE name = ?');

  const columns = (d: WorkflowDefinition, at: string) => ({
    name: d.name,
    description: d.description,
    input_schema: d.input_schema === null ? null : toJson(d.input_schema),
    graph: toJson(d.graph),
    updated_at: at,
  });

  return {
    create(definition, at) {
      const row = { ...columns(definition, at), version: 1, created_at: at };
      if (insertFirst.run(row).changes === 0) {
        throw new AuroraError('workflow_exists', `Workflow ${definition.name} already exists; PUT /api/v1/workflows/${definition.name} adds a version`);
      }
      return toRecord(row);
    },
    update(definition, at) {
      const next = insertNext.get(columns(definition, at));
      if (next === undefined) throw new AuroraError('workflow_not_found', `Workflow ${definition.name} not found`);
      return toRecord(version.get(definition.name, next)!);
    },
    get(name, v) {
      const row = v === undefined ? current.get(name) : version.get(name, v);
      return row === undefined ? undefined : toRecord(row);
    },
    page({ limit, cursor }) {
      const rows =
        cursor === undefined
          ? firstPage.all(limit + 1)
          : nextPage.all(decodeCursor('workflows', cursor, ['s'])[0] as string, limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        workflows: page.map(toRecord),
        // One row past the page tells whether another page exists.
        next_cursor: rows.length > limit && last !== undefined ? encodeCursor('workflows', [last.name]) : null,
      };
    },
    delete: (name) => remove.run(name).changes,
  };
}

function toRecord(row: Row): WorkflowRecord {
  return {
    name: row.name,
    version: row.version,
    description: row.description,
    input_schema: fromJsonOrNull<Record<string, unknown>>(row.input_schema),
    graph: fromJson<WorkflowNode>(row.graph),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
