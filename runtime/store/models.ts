import type { Database } from 'better-sqlite3';
import type { LoadedModel } from '../protocol/index.js';

export interface ModelRepository {
  /** Loading an already loaded model moves its loaded_at forward. */
  upsertLoaded(model: LoadedModel): void;
  /** False when the model was not recorded as loaded. */
  remove(name: string, provider: string): boolean;
  get(name: string, provider: string): LoadedModel | undefined;
  /** Oldest load first. */
  list(): LoadedModel[];
}

export function createModelRepository(db: Database): ModelRepository {
  const upsert = db.prepare<LoadedModel>(
    `INSERT INTO models (name, provider, loaded_at) VALUES (@name, @provider, @loaded_at)
     ON CONFLICT (name, provider) DO UPDATE SET loaded_at = excluded.loaded_at`,
  );
  const remove = db.prepare<[string, string]>('DELETE FROM models WHERE name = ? AND provider = ?');
  const get = db.prepare<[string, string], LoadedModel>(
    'SELECT name, provider, loaded_at FROM models WHERE name = ? AND provider = ?',
  );
  const list = db.prepare<[], LoadedModel>(
    'SELECT name, provider, loaded_at FROM models ORDER BY loaded_at, name, provider',
  );

  return {
    upsertLoaded(model) {
      upsert.run({ name: model.name, provider: model.provider, loaded_at: model.loaded_at });
    },
    remove(name, provider) {
      return remove.run(name, provider).changes > 0;
    },
    get(name, provider) {
      return get.get(name, provider);
    },
    list() {
      return list.all();
    },
  };
}
