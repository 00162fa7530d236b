// Artifacts in SQLite: stored with their bytes, read back whole, and kept within both bounds (a
// count and a total of bytes), the oldest dropped first.
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../runtime/ids.js';
import { openStore, type Store } from '../../runtime/store/index.js';

describe('artifact store', () => {
  let store: Store | undefined;
  afterEach(() => store?.close());

  const put = (s: Store, bytes: number): string => {
    const id = newId();
    s.artifacts.put({
      artifact_id: id,
      task_id: 't1',
      agent: 'web',
      content_type: 'image/png',
      bytes,
      created_at: new Date(0).toISOString(),
      data: Buffer.alloc(bytes, 7),
    });
    return id;
  };

  it('reads an artifact back with its bytes', () => {
    store = openStore({ path: ':memory:' });
    const id = put(store, 10);
    expect(store.artifacts.get(id)).toMatchObject({ artifact_id: id, task_id: 't1', content_type: 'image/png', bytes: 10, data: Buffer.alloc(10, 7) });
    expect(store.artifacts.get('nope')).toBeUndefined();
  });

  it('keeps at most maxCount artifacts, dropping the oldest', () => {
    store = openStore({ path: ':memory:', artifacts: { maxCount: 2, maxBytes: 1_000_000 } });
    const [a, b, c] = [put(store, 1), put(store, 1), put(store, 1)];
    expect(store.artifacts.get(a!)).toBeUndefined();
    expect(store.artifacts.get(b!)).toBeDefined();
    expect(store.artifacts.get(c!)).toBeDefined();
  });

  it('keeps at most maxBytes in all, dropping the oldest, and never one larger than the bound', () => {
    store = openStore({ path: ':memory:', artifacts: { maxCount: 100, maxBytes: 100 } });
    const a = put(store, 60);
    const b = put(store, 30);
    const c = put(store, 30);
    expect(store.artifacts.get(a)).toBeUndefined();
    expect(store.artifacts.get(b)).toBeDefined();
    expect(store.artifacts.get(c)).toBeDefined();
    const huge = put(store, 101);
    expect(store.artifacts.get(huge)).toBeUndefined();
  });
});
