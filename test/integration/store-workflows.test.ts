// The workflows table through its repository: versions, the current one, pages by name, deletion of
// every version. A private in-memory database per test.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuroraError } from '../../runtime/errors.js';
import type { WorkflowDefinition } from '../../runtime/protocol/index.js';
import { openStore, type Store } from '../../runtime/store/index.js';
import { encodeCursor } from '../../runtime/store/cursor.js';

const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();
const def = (name: string, input = 'v1'): WorkflowDefinition => ({
  name,
  description: `${name} ${input}`,
  input_schema: input === 'v1' ? null : { type: 'object' },
  graph: { type: 'agent', id: 'a', agent: 'writer', input },
});

let store: Store;
beforeEach(() => {
  store = openStore({ path: ':memory:' });
});
afterEach(() => store.close());

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as AuroraError).code;
  }
  return 'no error';
}

describe('workflow repository', () => {
  it('creates version 1 and refuses a second create of the same name', () => {
    const record = store.workflows.create(def('brief'), at(1));
    expect(record).toEqual({ ...def('brief'), version: 1, created_at: at(1), updated_at: at(1) });
    expect(store.workflows.get('brief')).toEqual(record);
    expect(code(() => store.workflows.create(def('brief', 'again'), at(2)))).toBe('workflow_exists');
    expect(store.workflows.get('brief')!.graph).toEqual(def('brief').graph);
  });

  it('adds a version per update, keeps every version, and stamps created_at from version 1', () => {
    store.workflows.create(def('brief'), at(1));
    const v2 = store.workflows.update(def('brief', 'v2'), at(2));
    const v3 = store.workflows.update(def('brief', 'v3'), at(3));
    expect([v2.version, v3.version]).toEqual([2, 3]);
    expect(v3).toMatchObject({ created_at: at(1), updated_at: at(3), input_schema: { type: 'object' } });
    expect(store.workflows.get('brief')).toEqual(v3);
    expect(store.workflows.get('brief', 1)!.graph).toMatchObject({ input: 'v1' });
    expect(store.workflows.get('brief', 2)).toEqual(v2);
    expect(store.workflows.get('brief', 4)).toBeUndefined();
    expect(code(() => store.workflows.update(def('ghost'), at(4)))).toBe('workflow_not_found');
  });

  it('pages current versions by name with a cursor, and refuses a cursor of another list', () => {
    for (const name of ['c', 'a', 'e', 'b', 'd']) store.workflows.create(def(name), at(1));
    store.workflows.update(def('b', 'v2'), at(2));
    const first = store.workflows.page({ limit: 2 });
    expect(first.workflows.map((w) => [w.name, w.version])).toEqual([['a', 1], ['b', 2]]);
    const second = store.workflows.page({ limit: 2, cursor: first.next_cursor! });
    expect(second.workflows.map((w) => w.name)).toEqual(['c', 'd']);
    const last = store.workflows.page({ limit: 2, cursor: second.next_cursor! });
    expect(last).toMatchObject({ next_cursor: null });
    expect(last.workflows.map((w) => w.name)).toEqual(['e']);
    expect(code(() => store.workflows.page({ limit: 2, cursor: encodeCursor('agents', [at(1), 'a']) }))).toBe('invalid_request');
  });

  it('deletes every version at once', () => {
    store.workflows.create(def('brief'), at(1));
    store.workflows.update(def('brief', 'v2'), at(2));
    expect(store.workflows.delete('brief')).toBe(2);
    expect(store.workflows.get('brief')).toBeUndefined();
    expect(store.workflows.get('brief', 1)).toBeUndefined();
    expect(store.workflows.delete('brief')).toBe(0);
    // The name is free again: a new workflow starts at version 1.
    expect(store.workflows.create(def('brief'), at(3)).version).toBe(1);
  });
});
