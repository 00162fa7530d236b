// History that outlives its agent, and keyset pages, against a real SQLite file: the migration from
// the schema before it (with data), the agent_id stamping, and pages that neither repeat nor skip a
// row while rows are written between them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../runtime/clock.js';
import { AuroraError } from '../../runtime/errors.js';
import type { AgentDefinition, AuroraEvent, TaskRequest } from '../../runtime/protocol/index.js';
import { AGENT_SCAN_MAX, openStore, type Store } from '../../runtime/store/index.js';
import { MIGRATIONS, migrate, schemaVersion } from '../../runtime/store/migrations.js';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The step this file is about; the ones before it are the schema a database in the field may have. */
const HISTORY_STEP = MIGRATIONS.findIndex((m) => m.name.startsWith('history outlives its agent'));

let dir: string;
let open: { close(): void }[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aurora-history-'));
  open = [];
});

afterEach(() => {
  for (const handle of open.reverse()) handle.close();
  rmSync(dir, { recursive: true, force: true });
});

const dbPath = () => join(dir, 'aurora.db');

function storeAt(path: string = dbPath(), maxEvents?: number): Store {
  const store = openStore({ path, clock: createManualClock(T0), ...(maxEvents !== undefined && { maxEvents }) });
  open.push(store);
  return store;
}

const agentDef = (name: string, over: Partial<AgentDefinition> = {}): AgentDefinition => ({
  name,
  agent_type: 'llm',
  model_name: 'llama2',
  provider: 'ollama',
  description: '',
  config: {},
  ...over,
});
const taskReq = (task_id: string, agent: string): TaskRequest => ({ task_id, agent, prompt: `prompt of ${task_id}`, parameters: {} });

function invalid(fn: () => unknown): AuroraError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuroraError);
    expect((err as AuroraError).code).toBe('invalid_request');
    return err as AuroraError;
  }
  throw new Error('expected invalid_request');
}

/** Every item of a list, walking next_cursor; `between` runs before each further page. */
function walk<T>(page: (cursor: string | undefined) => { items: T[]; next: string | null }, between: () => void = () => {}): T[][] {
  const pages: T[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const { items, next } = page(cursor);
    pages.push(items);
    if (next === null) return pages;
    between();
    cursor = next;
  }
}

describe('migrating a database written before history outlived its agent', () => {
  it('keeps every task, thread and message, backfills agent_id, and drops only the cascade', () => {
    expect(HISTORY_STEP).toBeGreaterThan(0);
    const path = dbPath();
    // The previous schema, set up the way the store always opened it: WAL, foreign keys enforced.
    const old = new Sqlite(path);
    old.pragma('journal_mode = WAL');
    old.pragma('foreign_keys = ON');
    migrate(old, createManualClock(T0), MIGRATIONS.slice(0, HISTORY_STEP));
    const insertAgent = old.prepare(
      `INSERT INTO agents (name, agent_type, model_name, provider, description, config, status, created_at)
       VALUES (?, 'llm', 'llama2', 'ollama', '', '{"system":"s"}', 'idle', ?)`,
    );
    insertAgent.run('alpha', at(0));
    insertAgent.run('bravo', at(0));
    const insertTask = old.prepare(
      `INSERT INTO tasks (task_id, agent, prompt, parameters, status, result, created_at, thread_id, details)
       VALUES (?, ?, ?, '{"seed":1}', 'completed', 'ok', ?, ?, '{"steps":[]}')`,
    );
    // Same created_at for several: after the copy, insertion order must still break the tie.
    for (let i = 0; i < 6; i++) insertTask.run(`t${i}`, i % 2 === 0 ? 'alpha' : 'bravo', `p${i}`, at(i < 4 ? 1 : 2), i === 0 ? 'th1' : null);
    old.prepare(`INSERT INTO threads (thread_id, agent, title, created_at, updated_at, message_count) VALUES ('th1', 'alpha', 'x', ?, ?, 2)`).run(at(1), at(1));
    const insertMessage = old.prepare(
      `INSERT INTO thread_messages (thread_id, seq, role, content, task_id, created_at) VALUES ('th1', ?, ?, ?, 't0', ?)`,
    );
    insertMessage.run(1, 'user', 'hello', at(1));
    insertMessage.run(2, 'assistant', 'hi', at(1));
    old.prepare(`INSERT INTO events (type, time, agent, payload) VALUES ('supervisor.crash', ?, 'alpha', '{}')`).run(at(1));
    const before = old.prepare('SELECT * FROM tasks ORDER BY rowid').all() as Record<string, unknown>[];
    old.close();

    const store = storeAt(path);
    const db = new Sqlite(path);
    open.push(db);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    const alpha = store.agents.get('alpha')!;
    const bravo = store.agents.get('bravo')!;
    expect(alpha.agent_id).toMatch(UUID_V4);
    expect(bravo.agent_id).toMatch(UUID_V4);
    expect(alpha.agent_id).not.toBe(bravo.agent_id);
    expect(alpha.config).toEqual({ system: 's' });

    const after = db.prepare('SELECT rowid AS r, * FROM tasks ORDER BY rowid').all() as Record<string, unknown>[];
    // Later migrations add columns (trace), empty for rows written before them.
    expect(after.map(({ r: _r, agent_id: _id, trace, ...rest }) => (expect(trace).toBeNull(), rest))).toEqual(before);
    for (const row of after) expect(row.agent_id).toBe(row.agent === 'alpha' ? alpha.agent_id : bravo.agent_id);
    expect(store.tasks.list({ limit: 10 }).map((t) => t.task_id)).toEqual(['t5', 't4', 't3', 't2', 't1', 't0']);
    expect(store.tasks.get('t0')).toMatchObject({ agent_id: alpha.agent_id, thread_id: 'th1', parameters: { seed: 1 }, details: { steps: [] } });
    expect(store.threads.get('th1')).toMatchObject({ agent: 'alpha', agent_id: alpha.agent_id, message_count: 2 });
    expect(store.threads.messages('th1', 10).messages.map((m) => m.content)).toEqual(['hello', 'hi']);
    expect(store.events.recent(10).map((e) => e.type)).toEqual(['supervisor.crash']);

    // The cascade is gone, the messages' own key to threads is not, and enforcement is back on.
    expect(db.pragma('foreign_key_list(tasks)')).toEqual([]);
    expect(db.pragma('foreign_key_list(threads)')).toEqual([]);
    expect((db.pragma('foreign_key_list(thread_messages)') as { table: string }[]).map((k) => k.table)).toEqual(['threads']);
    store.agents.delete('alpha');
    expect(store.tasks.list({ agent: 'alpha', limit: 10 }).map((t) => t.task_id)).toEqual(['t4', 't2', 't0']);
    store.threads.delete('th1');
    expect(store.threads.messages('th1', 10).messages).toEqual([]);
  });

  it('refuses a step that leaves a dangling foreign key, and rolls it back', () => {
    const db = new Sqlite(dbPath());
    open.push(db);
    db.pragma('foreign_keys = ON');
    const steps = [
      {
        name: 'one',
        sql: `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT);
              CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (p INTEGER REFERENCES parent (id));`,
      },
      { name: 'two', sql: 'INSERT INTO child VALUES (42);' },
    ];
    expect(() => migrate(db, createManualClock(T0), steps)).toThrow(/leaves 1 dangling foreign keys/);
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare('SELECT count(*) FROM child').pluck().get()).toBe(0);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.exec('BEGIN');
    expect(() => migrate(db, createManualClock(T0), steps)).toThrow(/outside a transaction/);
    db.exec('ROLLBACK');
  });
});

describe('task pages', () => {
  it('walks every task once, newest first, while tasks are added and finished between pages', () => {
    const store = storeAt();
    store.agents.insert(agentDef('alpha'), at(0));
    store.agents.insert(agentDef('bravo'), at(0));
    // Ties on created_at, across pages: rowid must order them.
    for (let i = 0; i < 23; i++) store.tasks.insertQueued(taskReq(`t${String(i).padStart(2, '0')}`, i % 3 === 0 ? 'bravo' : 'alpha'), at(Math.floor(i / 4)));
    const expected = store.tasks.list({ limit: 100 }).map((t) => t.task_id);
    expect(expected).toHaveLength(23);

    let added = 0;
    const pages = walk(
      (cursor) => {
        const p = store.tasks.page({ limit: 4, ...(cursor !== undefined && { cursor }) });
        return { items: p.tasks.map((t) => t.task_id), next: p.next_cursor };
      },
      () => {
        // Newer tasks land before the walk's position; finishing one does not move it.
        store.tasks.insertRunning(taskReq(`new${added++}`, 'alpha'), at(100));
        store.tasks.fail(expected[expected.length - 1]!, { status: 'cancelled', error: 'x', error_code: 'task_cancelled', completed_at: at(100), duration_ms: 0 });
      },
    );
    expect(pages.flat()).toEqual(expected);
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 4, 4, 3]);

    const alpha = walk((cursor) => {
      const p = store.tasks.page({ agent: 'alpha', status: 'queued', limit: 5, ...(cursor !== undefined && { cursor }) });
      return { items: p.tasks.map((t) => t.task_id), next: p.next_cursor };
    }).flat();
    expect(alpha).toEqual(store.tasks.list({ agent: 'alpha', status: 'queued', limit: 100 }).map((t) => t.task_id));
    expect(alpha.length).toBeGreaterThan(5);
  });

  it('refuses a cursor that does not decode, belongs to another list, or has the wrong shape', () => {
    const store = storeAt();
    store.agents.insert(agentDef('a0'), at(0));
    store.agents.insert(agentDef('a1'), at(0));
    const agentsCursor = store.agents.page({ limit: 1 }).next_cursor!;
    expect(agentsCursor).not.toBeNull();
    const wrongShape = Buffer.from(JSON.stringify(['tasks', 'x', 'not a number'])).toString('base64url');
    for (const cursor of ['garbage!', '', 'e30', agentsCursor, wrongShape, 'A'.repeat(600)]) {
      expect(invalid(() => store.tasks.page({ limit: 1, cursor })).message).toMatch(/^cursor: /);
    }
    const tasksCursor = Buffer.from(JSON.stringify(['tasks', at(0), 1])).toString('base64url');
    expect(invalid(() => store.agents.page({ limit: 1, cursor: tasksCursor })).message).toMatch(/^cursor: /);
    expect(invalid(() => store.events.page({ limit: 1, cursor: agentsCursor })).message).toMatch(/^cursor: /);
    expect(invalid(() => store.threads.page({ agent_id: 'x', limit: 1, cursor: agentsCursor })).message).toMatch(/^cursor: /);
    invalid(() => store.tasks.page({ limit: 0 }));
    invalid(() => store.agents.page({ limit: -1 }));
    invalid(() => store.events.page({ limit: 1.5 }));
  });
});

describe('agent pages', () => {
  it('walks agents oldest first by (created_at, name), filters by kind and model, and sees agents created meanwhile', () => {
    const store = storeAt();
    for (let i = 0; i < 20; i++) {
      store.agents.insert(agentDef(`agent-${String(19 - i).padStart(2, '0')}`, { agent_type: i % 2 === 0 ? 'llm' : 'relay', model_name: i % 4 === 0 ? 'mistral' : 'llama2' }), at(Math.floor(i / 3)));
    }
    const expected = store.agents.list().map((a) => a.name);
    let created = 0;
    const pages = walk(
      (cursor) => {
        const p = store.agents.page({ limit: 6, ...(cursor !== undefined && { cursor }) });
        return { items: p.agents.map((a) => a.name), next: p.next_cursor };
      },
      () => {
        store.agents.insert(agentDef(`late-${created++}`), at(50));
        store.agents.delete(expected[0]!);
      },
    );
    // Every agent once; those created during the walk come after, because they are the newest.
    expect(pages.flat()).toEqual([...expected, 'late-0', 'late-1', 'late-2']);

    const relayOnMistral = store.agents.page({ limit: 10, kind: 'relay', model: 'mistral' });
    expect(relayOnMistral).toEqual({ agents: [], next_cursor: null });
    const kinds = walk((cursor) => {
      const p = store.agents.page({ limit: 3, kind: 'relay', ...(cursor !== undefined && { cursor }) });
      return { items: p.agents.map((a) => `${a.name}:${a.agent_type}`), next: p.next_cursor };
    }).flat();
    expect(kinds).toHaveLength(10);
    expect(kinds.every((k) => k.endsWith(':relay'))).toBe(true);
  });

  it('bounds the rows a filtered page examines, and carries on after them with next_cursor', () => {
    const store = storeAt();
    const total = AGENT_SCAN_MAX + 5;
    for (let i = 0; i < total; i++) store.agents.insert(agentDef(`a${String(i).padStart(6, '0')}`), at(0));
    const wanted = new Set(['a000001', `a${String(total - 2).padStart(6, '0')}`, `a${String(total - 1).padStart(6, '0')}`]);
    const accept = (a: { name: string }) => wanted.has(a.name);
    const first = store.agents.page({ limit: 2, accept });
    expect(first.agents.map((a) => a.name)).toEqual(['a000001']);
    expect(first.next_cursor).not.toBeNull();
    const second = store.agents.page({ limit: 2, accept, cursor: first.next_cursor! });
    expect(second.agents.map((a) => a.name)).toEqual([...wanted].slice(1));
    expect(second.next_cursor).toBeNull();
    // A full page whose next accepted agent is within reach says so exactly.
    const exact = store.agents.page({ limit: 1, accept: (a) => a.name < 'a000003' });
    expect(exact.agents.map((a) => a.name)).toEqual(['a000000']);
    const rest = store.agents.page({ limit: 1, accept: (a) => a.name < 'a000003', cursor: exact.next_cursor! });
    expect(rest.agents.map((a) => a.name)).toEqual(['a000001']);
  });

  it('uses an index for every page query, never a sort of the whole table', () => {
    const store = storeAt();
    store.agents.insert(agentDef('x'), at(0));
    const db = new Sqlite(dbPath());
    open.push(db);
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
    const agents = plan("SELECT * FROM agents WHERE (created_at, name) > ('a', 'b') ORDER BY created_at, name LIMIT 101");
    expect(agents).toMatch(/USING INDEX agents_by_created/);
    expect(plan("SELECT * FROM agents WHERE agent_type = 'llm' ORDER BY created_at, name LIMIT 101")).toMatch(/USING INDEX agents_by_kind/);
    const tasks = plan("SELECT * FROM tasks WHERE agent = 'a' AND (created_at, rowid) < ('a', 1) ORDER BY created_at DESC, rowid DESC LIMIT 51");
    expect(tasks).toMatch(/USING INDEX tasks_by_agent/);
    expect(plan("SELECT * FROM tasks WHERE agent_id = 'a' ORDER BY created_at DESC, rowid DESC LIMIT 51")).toMatch(/USING INDEX tasks_by_agent_id/);
    for (const p of [agents, tasks]) expect(p).not.toMatch(/TEMP B-TREE/);
  });
});

describe('event pages', () => {
  const event = (i: number, type: string, agent?: string): AuroraEvent => ({
    type,
    time: at(i),
    ...(agent !== undefined && { agent }),
    payload: { i },
  });

  it('pages newest first by type, type prefix, agent and time, skipping events appended meanwhile', () => {
    const store = storeAt();
    const types = ['supervisor.crash', 'supervisor.restart', 'agent.created', 'model.loaded'];
    for (let i = 0; i < 24; i++) store.events.append(event(i, types[i % 4]!, i % 3 === 0 ? 'alpha' : 'bravo'));
    const ofPages = (q: Omit<Parameters<Store['events']['page']>[0], 'cursor'>) =>
      walk(
        (cursor) => {
          const p = store.events.page({ ...q, ...(cursor !== undefined && { cursor }) });
          return { items: p.events.map((e) => e.payload.i as number), next: p.next_cursor };
        },
        // Newer than the walk's position; and of a type, agent and time no later query asks for.
        () => store.events.append(event(0, 'agent.updated', 'charlie')),
      ).flat();
    expect(ofPages({ limit: 5 })).toEqual(Array.from({ length: 24 }, (_, k) => 23 - k));
    expect(ofPages({ limit: 2, type: 'supervisor.crash' })).toEqual([20, 16, 12, 8, 4, 0]);
    expect(ofPages({ limit: 4, type_prefix: 'supervisor.' })).toEqual([21, 20, 17, 16, 13, 12, 9, 8, 5, 4, 1, 0]);
    expect(ofPages({ limit: 3, agent: 'alpha', type_prefix: 'supervisor.' })).toEqual([21, 12, 9, 0]);
    expect(ofPages({ limit: 3, since: at(18) })).toEqual([23, 22, 21, 20, 19, 18]);
    const page = store.events.page({ limit: 1, type: 'model.loaded' });
    expect(page.events).toEqual([{ id: expect.any(Number), type: 'model.loaded', time: at(23), agent: 'bravo', payload: { i: 23 } }]);
  });
});
