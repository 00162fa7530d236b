import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentDefinition, AuroraEvent, PullRecord, TaskRequest, TaskTimings } from '../../runtime/protocol/index.js';
import { createManualClock } from '../../runtime/clock.js';
import { AuroraError } from '../../runtime/errors.js';
import {
  INTERRUPTED_ERROR_CODE,
  openStore,
  type Store,
  type StoreOptions,
  type TaskCompletion,
  type TaskFailure,
} from '../../runtime/store/index.js';
import { MIGRATIONS, migrate, schemaVersion } from '../../runtime/store/migrations.js';
import { createPullRepository } from '../../runtime/store/pulls.js';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

let dir: string;
let open: { close(): void }[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aurora-store-'));
  open = [];
});

afterEach(() => {
  for (const handle of open.reverse()) handle.close();
  rmSync(dir, { recursive: true, force: true });
});

function storeAt(path: string, options: Omit<StoreOptions, 'path'> = {}): Store {
  const store = openStore({ path, ...options });
  open.push(store);
  return store;
}

function raw(path: string): Sqlite.Database {
  const db = new Sqlite(path);
  open.push(db);
  return db;
}

function dbPath(): string {
  return join(dir, 'aurora.db');
}

function agentDef(name: string, config: Record<string, unknown> = {}): AgentDefinition {
  return { name, agent_type: 'llm', model_name: 'llama2', provider: 'ollama', description: `agent ${name}`, config };
}

function taskReq(task_id: string, agent: string, parameters: TaskRequest['parameters'] = {}): TaskRequest {
  return { task_id, agent, prompt: `prompt of ${task_id}`, parameters };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const timings: TaskTimings = {
  queued_ms: 3,
  total_duration_ms: 1500,
  load_duration_ms: 200,
  prompt_eval_duration_ms: null,
  eval_duration_ms: 1100,
};

const completion = (over: Partial<TaskCompletion> = {}): TaskCompletion => ({
  result: 'ok',
  model: 'm',
  provider: 'p',
  tokens_used: 1,
  completed_at: at(3),
  duration_ms: 1000,
  timings,
  ...over,
});

const cancellation = (over: Partial<TaskFailure> = {}): TaskFailure => ({
  status: 'cancelled',
  error: 'stop',
  error_code: 'task_cancelled',
  completed_at: at(2),
  duration_ms: 0,
  ...over,
});

describe('opening and migrating', () => {
  it('creates the missing parent folder and applies every migration to a new file', () => {
    const path = join(dir, 'nested', 'deeper', 'aurora.db');
    const clock = createManualClock(T0);
    storeAt(path, { clock }).close();

    expect(existsSync(path)).toBe(true);
    const db = raw(path);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all()).toEqual(
      MIGRATIONS.map((m, i) => ({ version: i + 1, name: m.name, applied_at: at(0) })),
    );
  });

  it('is idempotent on reopen: nothing is applied twice and the data stays', () => {
    const path = dbPath();
    const clock = createManualClock(T0);
    const first = storeAt(path, { clock });
    first.agents.insert(agentDef('keeper'), at(1));
    first.close();

    clock.advance(60_000);
    const second = storeAt(path, { clock });
    expect(second.agents.get('keeper')?.created_at).toBe(at(1));
    second.close();

    const db = raw(path);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    const applied = db.prepare('SELECT applied_at FROM schema_migrations').pluck().all();
    expect(applied).toEqual(MIGRATIONS.map(() => at(0)));
  });

  it('refuses a database whose schema version is newer than this build knows, and leaves it alone', () => {
    const path = dbPath();
    const future = MIGRATIONS.length + 1;
    const setup = new Sqlite(path);
    setup.pragma(`user_version = ${future}`);
    setup.close();

    const err = thrown(() => openStore({ path }));
    expect(err).toBeInstanceOf(AuroraError);
    expect((err as AuroraError).message).toMatch(
      new RegExp(`schema version ${future} but this build of Aurora knows only up to ${MIGRATIONS.length}`),
    );

    const db = raw(path);
    expect(schemaVersion(db)).toBe(future);
    expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get()).toBe(0);
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
  });

  it('applies each step in its own transaction, so a failing step leaves the previous version intact', () => {
    const db = raw(dbPath());
    const clock = createManualClock(T0);
    const good = {
      name: 'one',
      sql: 'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT); CREATE TABLE one (x INTEGER);',
    };
    const broken = { name: 'two', sql: 'CREATE TABLE two (x INTEGER); INSERT INTO missing VALUES (1);' };

    expect(() => migrate(db, clock, [good, broken])).toThrow(/no such table: missing/);
    expect(schemaVersion(db)).toBe(1);
    const tables = () => db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables()).toEqual(['one', 'schema_migrations']);

    const fixed = { name: 'two', sql: 'CREATE TABLE two (x INTEGER);' };
    migrate(db, clock, [good, fixed]);
    expect(schemaVersion(db)).toBe(2);
    expect(tables()).toEqual(['one', 'schema_migrations', 'two']);
  });

  it('puts a file database in WAL mode with foreign keys enforced', () => {
    const path = dbPath();
    const store = storeAt(path);
    expect(raw(path).pragma('journal_mode', { simple: true })).toBe('wal');
    // Only an enforced tasks → agents key can tell a missing agent apart.
    const err = thrown(() => store.tasks.insertQueued(taskReq('t1', 'ghost'), at(0)));
    expect(err).toBeInstanceOf(AuroraError);
    expect((err as AuroraError).code).toBe('agent_not_found');
  });

  it('works in memory', () => {
    const store = storeAt(':memory:');
    store.agents.insert(agentDef('a'), at(0));
    expect(store.agents.list().map((a) => a.name)).toEqual(['a']);
  });

  it('answers ping while open and false once closed; close is idempotent', () => {
    const store = storeAt(dbPath());
    expect(store.ping()).toBe(true);
    store.close();
    expect(store.ping()).toBe(false);
    expect(() => store.close()).not.toThrow();
  });
});

describe('agents', () => {
  let store: Store;
  beforeEach(() => {
    store = storeAt(dbPath());
  });

  it('inserts an idle agent and reads it back, config included', () => {
    const config = { temperature: 0.25, tools: ['search', 'browse'], nested: { deep: [1, null, true] }, note: 'ünï ✓' };
    const created = store.agents.insert(agentDef('alpha', config), at(5));
    const expected = { ...agentDef('alpha', config), agent_id: expect.stringMatching(UUID), status: 'idle', created_at: at(5), last_run: null };
    expect(created).toEqual(expected);
    expect(store.agents.get('alpha')).toEqual(expected);
    expect(store.agents.get('nobody')).toBeUndefined();
  });

  it('refuses a duplicate name with agent_exists and keeps the original', () => {
    store.agents.insert(agentDef('alpha', { v: 1 }), at(1));
    const err = thrown(() => store.agents.insert(agentDef('alpha', { v: 2 }), at(2)));
    expect(err).toBeInstanceOf(AuroraError);
    expect((err as AuroraError).code).toBe('agent_exists');
    expect((err as AuroraError).message).toBe('Agent alpha already exists');
    expect(store.agents.get('alpha')?.config).toEqual({ v: 1 });
  });

  it('lists by created_at, then name', () => {
    store.agents.insert(agentDef('late'), at(9));
    store.agents.insert(agentDef('bravo'), at(3));
    store.agents.insert(agentDef('alpha'), at(3));
    store.agents.insert(agentDef('early'), at(1));
    expect(store.agents.list().map((a) => a.name)).toEqual(['early', 'alpha', 'bravo', 'late']);
  });

  it('updates status and last_run, and says when the agent is unknown', () => {
    store.agents.insert(agentDef('alpha'), at(0));
    expect(store.agents.setStatus('alpha', 'restarting')).toBe(true);
    expect(store.agents.touchLastRun('alpha', at(7))).toBe(true);
    expect(store.agents.get('alpha')).toMatchObject({ status: 'restarting', last_run: at(7) });
    expect(store.agents.setStatus('ghost', 'failed')).toBe(false);
    expect(store.agents.touchLastRun('ghost', at(7))).toBe(false);
  });

  // Changed on purpose (history outlives its agent): deleting an agent used to cascade to its tasks.
  it('deletes an agent but not its tasks and threads, which keep the agent_id of the one deleted', () => {
    const alpha = store.agents.insert(agentDef('alpha'), at(0));
    store.agents.insert(agentDef('bravo'), at(0));
    store.tasks.insertQueued(taskReq('a1', 'alpha'), at(1));
    store.tasks.insertQueued(taskReq('b1', 'bravo'), at(1));
    store.threads.create({ thread_id: 'th1', agent: 'alpha', title: null }, at(1));

    expect(store.agents.delete('alpha')).toBe(true);
    expect(store.agents.delete('alpha')).toBe(false);
    expect(store.agents.get('alpha')).toBeUndefined();
    expect(store.tasks.get('a1')).toMatchObject({ agent: 'alpha', agent_id: alpha.agent_id });
    expect(store.threads.get('th1')).toMatchObject({ agent: 'alpha', agent_id: alpha.agent_id });
    expect(store.tasks.get('b1')?.agent).toBe('bravo');
    // Nothing new can be filed under the deleted agent.
    expect((thrown(() => store.tasks.insertQueued(taskReq('a2', 'alpha'), at(2))) as AuroraError).code).toBe('agent_not_found');
    expect((thrown(() => store.tasks.insertRunning(taskReq('a3', 'alpha'), at(2))) as AuroraError).code).toBe('agent_not_found');
    expect((thrown(() => store.threads.create({ thread_id: 'th2', agent: 'alpha', title: null }, at(2))) as AuroraError).code).toBe(
      'agent_not_found',
    );
  });

  it('gives an agent created again under the same name a new agent_id, and purges one incarnation only', () => {
    const first = store.agents.insert(agentDef('alpha'), at(0));
    store.tasks.insertQueued(taskReq('old-1', 'alpha'), at(1));
    store.tasks.insertRunning(taskReq('old-2', 'alpha'), at(1));
    store.threads.create({ thread_id: 'old-thread', agent: 'alpha', title: null }, at(1));
    store.agents.delete('alpha');
    const second = store.agents.insert(agentDef('alpha'), at(2));
    expect(second.agent_id).not.toBe(first.agent_id);
    store.tasks.insertQueued(taskReq('new-1', 'alpha'), at(3));
    store.threads.create({ thread_id: 'new-thread', agent: 'alpha', title: null }, at(3));
    store.threads.append('new-thread', [{ role: 'user', content: 'hi', tokens: 1 }], 'new-1', at(3));

    const ids = (q: Parameters<Store['tasks']['list']>[0]) => store.tasks.list(q).map((t) => t.task_id);
    expect(ids({ agent: 'alpha', limit: 10 })).toEqual(['new-1', 'old-2', 'old-1']);
    expect(ids({ agent_id: first.agent_id, limit: 10 })).toEqual(['old-2', 'old-1']);
    expect(ids({ agent_id: second.agent_id, limit: 10 })).toEqual(['new-1']);
    expect(store.threads.page({ agent_id: second.agent_id, limit: 10 }).threads.map((t) => t.thread_id)).toEqual(['new-thread']);

    expect(store.tasks.deleteByAgentId(second.agent_id)).toBe(1);
    expect(store.threads.deleteByAgentId(second.agent_id)).toBe(1);
    expect(store.threads.messages('new-thread', 10).messages).toEqual([]);
    expect(ids({ agent: 'alpha', limit: 10 })).toEqual(['old-2', 'old-1']);
    expect(store.threads.get('old-thread')?.agent_id).toBe(first.agent_id);
  });
});

describe('tasks', () => {
  let store: Store;
  let agentIds: Record<string, string>;
  beforeEach(() => {
    store = storeAt(dbPath());
    agentIds = {
      alpha: store.agents.insert(agentDef('alpha'), at(0)).agent_id,
      bravo: store.agents.insert(agentDef('bravo'), at(0)).agent_id,
    };
  });

  const queued = (task_id: string, agent: string, createdAt: string, parameters: TaskRequest['parameters'] = {}) => ({
    ...taskReq(task_id, agent, parameters),
    agent_id: agentIds[agent],
    status: 'queued',
    result: null,
    error: null,
    error_code: null,
    model: null,
    provider: null,
    tokens_used: null,
    created_at: createdAt,
    started_at: null,
    completed_at: null,
    duration_ms: null,
    timings: null,
    thread_id: null,
    details: {},
  });

  it('goes queued → running → completed with every field round-tripping', () => {
    const parameters = { system: 'be brief', temperature: 0.5, max_tokens: 64, seed: 7, timeout_ms: 9000, retries: 2 };
    const inserted = store.tasks.insertQueued(taskReq('t1', 'alpha', parameters), at(1));
    expect(inserted).toEqual(queued('t1', 'alpha', at(1), parameters));
    expect(store.tasks.get('t1')).toEqual(inserted);

    expect(store.tasks.markRunning('t1', at(2))).toBe(true);
    expect(store.tasks.get('t1')).toMatchObject({ status: 'running', started_at: at(2) });

    const done = store.tasks.complete('t1', {
      result: 'forty-two',
      model: 'llama2',
      provider: 'ollama',
      tokens_used: 12,
      completed_at: at(4),
      duration_ms: 1999.6,
      timings,
    });
    expect(done).toBe(true);
    expect(store.tasks.get('t1')).toEqual({
      ...queued('t1', 'alpha', at(1), parameters),
      status: 'completed',
      result: 'forty-two',
      model: 'llama2',
      provider: 'ollama',
      tokens_used: 12,
      started_at: at(2),
      completed_at: at(4),
      duration_ms: 2000,
      timings,
    });
  });

  it('goes queued → running → failed with the error recorded', () => {
    store.tasks.insertQueued(taskReq('t1', 'alpha'), at(1));
    store.tasks.markRunning('t1', at(2));
    const failed = store.tasks.fail('t1', {
      status: 'failed',
      error: 'Ollama is down',
      error_code: 'llm_unavailable',
      completed_at: at(3),
      duration_ms: 1000,
    });
    expect(failed).toBe(true);
    expect(store.tasks.get('t1')).toEqual({
      ...queued('t1', 'alpha', at(1)),
      status: 'failed',
      error: 'Ollama is down',
      error_code: 'llm_unavailable',
      started_at: at(2),
      completed_at: at(3),
      duration_ms: 1000,
    });
  });

  it('cancels a queued task, after which it can neither start nor complete', () => {
    store.tasks.insertQueued(taskReq('t1', 'alpha'), at(1));
    expect(
      store.tasks.fail('t1', cancellation({ error: 'Cancelled by client', completed_at: at(2) })),
    ).toBe(true);
    const cancelled = store.tasks.get('t1');
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      error: 'Cancelled by client',
      error_code: 'task_cancelled',
      completed_at: at(2),
      started_at: null,
    });

    expect(store.tasks.markRunning('t1', at(3))).toBe(false);
    expect(
      store.tasks.complete('t1', completion({ result: 'late', completed_at: at(4) })),
    ).toBe(false);
    expect(store.tasks.get('t1')).toEqual(cancelled);
  });

  it('never rewrites a finished task, and reports unknown ids', () => {
    store.tasks.insertQueued(taskReq('t1', 'alpha'), at(1));
    store.tasks.markRunning('t1', at(2));
    store.tasks.complete('t1', completion());
    const finished = store.tasks.get('t1');

    expect(store.tasks.fail('t1', cancellation({ error: 'too late', completed_at: at(5) }))).toBe(false);
    expect(store.tasks.complete('t1', completion({ result: 'again', completed_at: at(5) }))).toBe(false);
    expect(store.tasks.get('t1')).toEqual(finished);

    expect(store.tasks.get('nope')).toBeUndefined();
    expect(store.tasks.markRunning('nope', at(1))).toBe(false);
    expect(store.tasks.fail('nope', cancellation({ status: 'failed' }))).toBe(false);
  });

  it('starts a running task again for a retry, moving started_at', () => {
    store.tasks.insertQueued(taskReq('t1', 'alpha', { retries: 1 }), at(1));
    store.tasks.markRunning('t1', at(2));
    expect(store.tasks.markRunning('t1', at(6))).toBe(true);
    expect(store.tasks.get('t1')).toMatchObject({ status: 'running', started_at: at(6) });
  });

  it('lists newest first, filtered by agent and status, up to the limit', () => {
    store.tasks.insertQueued(taskReq('a1', 'alpha'), at(1));
    store.tasks.insertQueued(taskReq('b1', 'bravo'), at(2));
    store.tasks.insertQueued(taskReq('a2', 'alpha'), at(3));
    // Same millisecond: insertion order decides.
    store.tasks.insertQueued(taskReq('a3', 'alpha'), at(3));
    store.tasks.insertQueued(taskReq('b2', 'bravo'), at(4));
    store.tasks.markRunning('a2', at(5));
    store.tasks.markRunning('b1', at(5));

    const ids = (q: Parameters<Store['tasks']['list']>[0]) => store.tasks.list(q).map((t) => t.task_id);
    expect(ids({ limit: 100 })).toEqual(['b2', 'a3', 'a2', 'b1', 'a1']);
    expect(ids({ limit: 2 })).toEqual(['b2', 'a3']);
    expect(ids({ agent: 'alpha', limit: 100 })).toEqual(['a3', 'a2', 'a1']);
    expect(ids({ status: 'running', limit: 100 })).toEqual(['a2', 'b1']);
    expect(ids({ agent: 'bravo', status: 'queued', limit: 100 })).toEqual(['b2']);
    expect(ids({ agent: 'alpha', status: 'queued', limit: 1 })).toEqual(['a3']);
    expect(ids({ agent: 'ghost', limit: 100 })).toEqual([]);
    expect(store.tasks.list({ agent: 'alpha', limit: 1 })[0]).toEqual(store.tasks.get('a3'));
  });

  it('refuses a limit that is not a positive integer', () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      const err = thrown(() => store.tasks.list({ limit }));
      expect((err as AuroraError).code).toBe('invalid_request');
    }
  });

  it('fails orphaned queued and running tasks, leaves finished ones alone, and it all survives a reopen', () => {
    const path = dbPath();
    store.tasks.insertQueued(taskReq('queued', 'alpha'), at(1));
    store.tasks.insertQueued(taskReq('running', 'alpha'), at(1));
    store.tasks.markRunning('running', at(2));
    store.tasks.insertQueued(taskReq('done', 'bravo'), at(1));
    store.tasks.markRunning('done', at(2));
    store.tasks.complete('done', completion());
    store.tasks.insertQueued(taskReq('failed', 'bravo'), at(1));
    store.tasks.fail('failed', cancellation({ status: 'failed', error: 'boom', error_code: 'llm_error', duration_ms: 5 }));
    store.tasks.insertQueued(taskReq('cancelled', 'bravo'), at(1));
    store.tasks.fail('cancelled', cancellation());
    const finishedBefore = ['done', 'failed', 'cancelled'].map((id) => store.tasks.get(id));

    const reason = 'Aurora restarted while the task was in flight';
    const orphanAt = new Date(T0 + 12_345).toISOString();
    expect(store.tasks.failOrphans(reason, orphanAt)).toBe(2);
    expect(store.tasks.failOrphans(reason, orphanAt)).toBe(0);
    store.close();

    const reopened = storeAt(path);
    expect(reopened.tasks.get('queued')).toEqual({
      ...queued('queued', 'alpha', at(1)),
      status: 'failed',
      error: reason,
      error_code: INTERRUPTED_ERROR_CODE,
      completed_at: orphanAt,
    });
    expect(reopened.tasks.get('running')).toEqual({
      ...queued('running', 'alpha', at(1)),
      status: 'failed',
      error: reason,
      error_code: 'interrupted',
      started_at: at(2),
      completed_at: orphanAt,
      duration_ms: 10_345,
    });
    expect(['done', 'failed', 'cancelled'].map((id) => reopened.tasks.get(id))).toEqual(finishedBefore);
    expect(reopened.tasks.list({ status: 'queued', limit: 10 })).toEqual([]);
    expect(reopened.tasks.list({ status: 'running', limit: 10 })).toEqual([]);
  });
});

describe('models', () => {
  it('upserts, lists, gets and removes loaded models', () => {
    const store = storeAt(dbPath());
    store.models.upsertLoaded({ name: 'llama2', provider: 'ollama', loaded_at: at(1) });
    store.models.upsertLoaded({ name: 'mistral', provider: 'ollama', loaded_at: at(2) });
    store.models.upsertLoaded({ name: 'llama2', provider: 'other', loaded_at: at(3) });
    store.models.upsertLoaded({ name: 'llama2', provider: 'ollama', loaded_at: at(4) });

    expect(store.models.list()).toEqual([
      { name: 'mistral', provider: 'ollama', loaded_at: at(2) },
      { name: 'llama2', provider: 'other', loaded_at: at(3) },
      { name: 'llama2', provider: 'ollama', loaded_at: at(4) },
    ]);
    expect(store.models.get('llama2', 'ollama')).toEqual({ name: 'llama2', provider: 'ollama', loaded_at: at(4) });
    expect(store.models.get('llama2', 'nowhere')).toBeUndefined();

    expect(store.models.remove('llama2', 'ollama')).toBe(true);
    expect(store.models.remove('llama2', 'ollama')).toBe(false);
    expect(store.models.list().map((m) => `${m.name}@${m.provider}`)).toEqual(['mistral@ollama', 'llama2@other']);
  });
});

describe('model pulls', () => {
  const pull = (id: string, over: Partial<PullRecord> = {}): PullRecord => ({
    pull_id: id,
    name: 'llama3.1:8b',
    provider: 'ollama',
    status: 'running',
    completed_bytes: 0,
    total_bytes: 0,
    percent: 0,
    detail: 'pulling manifest',
    error: null,
    error_code: null,
    started_at: at(1),
    finished_at: null,
    ...over,
  });

  it('writes a pull as it starts, progresses and ends, every field round-tripping', () => {
    const store = storeAt(dbPath());
    store.pulls.save(pull('p1'));
    expect(store.pulls.get('p1')).toEqual(pull('p1'));
    const moving = pull('p1', { completed_bytes: 500, total_bytes: 2000, percent: 25, detail: 'pulling 6a0746a1ec1a' });
    store.pulls.save(moving);
    expect(store.pulls.get('p1')).toEqual(moving);
    // The name, provider and start of a pull never change, whatever a later write says.
    const done = { ...moving, status: 'completed' as const, completed_bytes: 2000, percent: 100, detail: 'success', finished_at: at(9) };
    store.pulls.save({ ...done, name: 'other', started_at: at(5) });
    expect(store.pulls.get('p1')).toEqual(done);
    expect(store.pulls.get('nope')).toBeUndefined();
  });

  it('marks pulls a dead process left running as failed (interrupted), leaves finished ones, and it survives a reopen', () => {
    const path = dbPath();
    const first = storeAt(path);
    first.pulls.save(pull('p1'));
    first.pulls.save(pull('p2', { status: 'completed', percent: 100, finished_at: at(2) }));
    first.close();

    const second = storeAt(path);
    expect(second.pulls.failOrphans('Aurora stopped while the pull was running', at(10))).toBe(1);
    expect(second.pulls.get('p1')).toMatchObject({
      status: 'failed',
      error: 'Aurora stopped while the pull was running',
      error_code: 'interrupted',
      finished_at: at(10),
    });
    expect(second.pulls.get('p2')).toMatchObject({ status: 'completed', error_code: null });
    expect(second.pulls.failOrphans('again', at(11))).toBe(0);
    second.close();
    expect(storeAt(path).pulls.get('p1')).toMatchObject({ status: 'failed', error_code: 'interrupted' });
  });

  it('keeps the newest finished pulls up to its bound, and never forgets a running one', () => {
    const db = raw(dbPath());
    migrate(db, createManualClock(T0));
    const pulls = createPullRepository(db, 3);
    pulls.save(pull('a0'));
    for (const id of ['a1', 'a2', 'a3', 'a4', 'a5']) pulls.save(pull(id, { status: 'failed', finished_at: at(2) }));
    const ids = db.prepare<[], string>('SELECT pull_id FROM model_pulls ORDER BY pull_id').pluck().all();
    expect(ids).toEqual(['a0', 'a3', 'a4', 'a5']);
  });
});

describe('events', () => {
  const event = (i: number): AuroraEvent => ({
    type: 'supervisor.restart',
    time: at(i),
    agent: 'alpha',
    payload: { attempt: i, delay_ms: i * 10 },
  });

  it('appends and returns the newest first, exactly as appended', () => {
    const store = storeAt(dbPath());
    const bare: AuroraEvent = { type: 'model.loaded', time: at(1), payload: { name: 'llama2' } };
    const full: AuroraEvent = {
      type: 'supervisor.crash',
      time: at(2),
      agent: 'alpha',
      task_id: 't1',
      payload: { error: 'boom', nested: { n: [1] } },
    };
    store.events.append(bare);
    store.events.append(full);
    expect(store.events.recent(10)).toEqual([full, bare]);
    expect(store.events.recent(1)).toEqual([full]);
    expect(Object.keys(store.events.recent(10)[1]!)).toEqual(['type', 'time', 'payload']);
  });

  it('keeps the table bounded, pruning every so often rather than on every insert', () => {
    const maxEvents = 20;
    const store = storeAt(dbPath(), { maxEvents });
    let highest = 0;
    for (let i = 0; i < 105; i++) {
      store.events.append(event(i));
      highest = Math.max(highest, store.events.count());
    }
    // A tenth of the bound between prunes: never more than maxEvents + 1 rows here, and that many
    // only because a prune does not follow every insert.
    expect(highest).toBe(maxEvents + 1);
    // 105 appends with a prune after every second one leave one extra row.
    expect(store.events.count()).toBe(maxEvents + 1);
    expect(store.events.prune()).toBe(1);
    expect(store.events.count()).toBe(maxEvents);
    expect(store.events.recent(100)).toEqual(Array.from({ length: maxEvents }, (_, k) => event(104 - k)));
  });

  it('enforces a smaller bound as soon as the store is reopened', () => {
    const path = dbPath();
    const first = storeAt(path, { maxEvents: 100 });
    for (let i = 0; i < 30; i++) first.events.append(event(i));
    first.close();

    const second = storeAt(path, { maxEvents: 5 });
    expect(second.events.count()).toBe(5);
    expect(second.events.recent(10).map((e) => e.time)).toEqual([29, 28, 27, 26, 25].map(at));
  });
});

describe('group commit', () => {
  it('acknowledges through afterCommit only once another connection can read the write', async () => {
    const store = storeAt(dbPath());
    const other = raw(dbPath());
    const seen: (string | undefined)[] = [];
    store.agents.insert(agentDef('durable'), at(0));
    const stored = () => (other.prepare('SELECT name FROM agents').pluck().get() as string | undefined);
    expect(stored(), "not yet committed").toBeUndefined();
    const acknowledged = new Promise<boolean>((resolve) =>
      store.afterCommit((committed) => {
        seen.push(stored());
        resolve(committed);
      }),
    );
    expect(await acknowledged).toBe(true);
    expect(seen).toEqual(['durable']);
  });

  it('writes a task that starts and completes within one turn as one committed row, and never hides it from a reader', async () => {
    const store = storeAt(dbPath());
    const other = raw(dbPath());
    store.agents.insert(agentDef('alpha'), at(0));
    store.agents.insert(agentDef('bravo'), at(0));
    await new Promise<boolean>((resolve) => store.afterCommit(resolve));
    const completion = { result: 'r', model: 'm', provider: 'ollama', tokens_used: 3, completed_at: at(2), duration_ms: 5, timings };
    expect(() => store.tasks.insertRunning(taskReq('ghost-task', 'ghost'), at(1))).toThrow(/Agent ghost not found/);
    store.tasks.insertRunning(taskReq('first', 'alpha'), at(1));
    store.tasks.insertRunning(taskReq('second', 'alpha'), at(1));
    store.tasks.insertRunning(taskReq('third', 'bravo'), at(1));
    // Completing a later task first keeps the insertion order (rowid breaks created_at ties).
    expect(store.tasks.complete('second', completion)).toBe(true);
    // A read sees the held rows: running, or completed.
    expect(store.tasks.get('first')).toMatchObject({ status: 'running', started_at: at(1) });
    expect(store.tasks.list({ limit: 10 }).map((t) => [t.task_id, t.status])).toEqual([
      ['third', 'running'],
      ['second', 'completed'],
      ['first', 'running'],
    ]);
    expect(store.tasks.complete('first', completion)).toBe(true);
    store.tasks.insertRunning(taskReq('fourth', 'bravo'), at(1));
    // Changed on purpose: deleting the agent no longer cascades, so a row still held back lands too.
    expect(store.agents.delete('bravo')).toBe(true);
    const committed = await new Promise<boolean>((resolve) => store.afterCommit(resolve));
    expect(committed).toBe(true);
    const rows = other.prepare('SELECT task_id, status, result, started_at FROM tasks ORDER BY rowid').all();
    expect(rows).toEqual([
      { task_id: 'first', status: 'completed', result: 'r', started_at: at(1) },
      { task_id: 'second', status: 'completed', result: 'r', started_at: at(1) },
      { task_id: 'third', status: 'running', result: null, started_at: at(1) },
      { task_id: 'fourth', status: 'running', result: null, started_at: at(1) },
    ]);
  });

  it('runs afterCommit at once when nothing is pending', () => {
    const store = storeAt(dbPath());
    let ran = false;
    store.afterCommit(() => {
      ran = true;
    });
    expect(ran).toBe(true);
  });
});
