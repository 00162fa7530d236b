// The model manager: lists, loads and unloads models on the LLM provider and remembers when
// Aurora loaded each one. Provider listings are cached; Aurora's own changes invalidate them.
import type { Bus, Subscription } from '../runtime/bus/bus.js';
import { getOrLoad, type Cache } from '../runtime/cache/cache.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import { AuroraError } from '../runtime/errors.js';
import type { EventPublisher } from '../runtime/events.js';
import type { Logger } from '../runtime/logger.js';
import { sameModelName, type LlmProvider } from '../runtime/providers/llm.js';
import type { LoadedModel, ModelStatus, ReplyOf, RequestOf } from '../runtime/protocol/index.js';
import { serveOperation } from '../runtime/rpc.js';
import type { Store } from '../runtime/store/index.js';
import type { Subjects } from '../runtime/subjects.js';

export interface ModelManagerDeps {
  bus: Bus;
  subjects: Subjects;
  store: Store;
  cache: Cache;
  events: EventPublisher;
  clock: Clock;
  logger: Logger;
  providers: Readonly<Record<string, LlmProvider>>;
  cacheTtlMs: number;
}

export function createModelManager(deps: ModelManagerDeps) {
  const { store, cache, events, subjects } = deps;
  const subscriptions: Subscription[] = [];
  const key = (provider: string, what: 'installed' | 'loaded') => `models:${provider}:${what}`;

  const providerOf = (name: string): LlmProvider => {
    const provider = deps.providers[name];
    if (!provider) throw new AuroraError('invalid_request', `Unknown provider: ${name}`);
    return provider;
  };

  const installed = (provider: string) =>
    getOrLoad(cache, key(provider, 'installed'), deps.cacheTtlMs, () => providerOf(provider).listInstalled());
  const loaded = (provider: string) =>
    getOrLoad(cache, key(provider, 'loaded'), deps.cacheTtlMs, () => providerOf(provider).listLoaded());

  const invalidate = async (provider: string) => {
    await Promise.allSettled([cache.del(key(provider, 'installed')), cache.del(key(provider, 'loaded'))]);
  };

  async function list(): Promise<LoadedModel[]> {
    const out: LoadedModel[] = [];
    const remembered = store.models.list();
    for (const provider of Object.keys(deps.providers)) {
      for (const model of await loaded(provider)) {
        const known = remembered.find((m) => m.provider === provider && sameModelName(m.name, model.name));
        out.push({ name: known?.name ?? model.name, provider, loaded_at: known?.loaded_at ?? isoNow(deps.clock) });
      }
    }
    return out;
  }

  async function load({ name, provider, config }: RequestOf<'models.load'>): Promise<LoadedModel> {
    const llm = providerOf(provider);
    // A stale listing must not refuse a model installed a moment ago: look again before saying no.
    if (!(await installed(provider)).some((m) => sameModelName(m.name, name))) {
      await invalidate(provider);
      if (!(await installed(provider)).some((m) => sameModelName(m.name, name))) {
        throw new AuroraError('model_not_found', `Model ${name} not found`);
      }
    }
    const keepAlive = config.keep_alive;
    await llm.load(name, typeof keepAlive === 'string' || typeof keepAlive === 'number' ? keepAlive : undefined);
    const model: LoadedModel = { name, provider, loaded_at: isoNow(deps.clock) };
    store.models.upsertLoaded(model);
    await invalidate(provider);
    events.publish('model.loaded', { payload: { name, provider } });
    return model;
  }

  async function unload({ name, provider }: RequestOf<'models.unload'>): Promise<ReplyOf<'models.unload'>> {
    const llm = providerOf(provider);
    const live = await llm.listLoaded();
    if (!live.some((m) => sameModelName(m.name, name))) {
      store.models.remove(name, provider);
      throw new AuroraError('model_not_loaded', `Model ${name} is not loaded`);
    }
    await llm.unload(name);
    store.models.remove(name, provider);
    await invalidate(provider);
    events.publish('model.unloaded', { payload: { name, provider } });
    return { name, provider };
  }

  async function status({ name, provider }: RequestOf<'models.status'>): Promise<ModelStatus> {
    providerOf(provider);
    const [inst, live] = await Promise.all([installed(provider), providerOf(provider).listLoaded()]);
    const found = inst.find((m) => sameModelName(m.name, name));
    const running = live.find((m) => sameModelName(m.name, name));
    if (!found && !running) throw new AuroraError('model_not_found', `Model ${name} not found`);
    const known = store.models.get(name, provider);
    return {
      name,
      provider,
      installed: found !== undefined,
      loaded: running !== undefined,
      loaded_at: running ? (known?.loaded_at ?? null) : null,
      size_bytes: found?.sizeBytes ?? running?.sizeBytes ?? null,
      expires_at: running?.expiresAt ?? null,
    };
  }

  const opts = { queue: subjects.queue('models'), logger: deps.logger };
  return {
    start(): void {
      subscriptions.push(
        serveOperation(deps.bus, subjects, 'models.list', list, opts),
        serveOperation(deps.bus, subjects, 'models.installed', async () => {
          const out: ReplyOf<'models.installed'> = [];
          for (const provider of Object.keys(deps.providers)) {
            for (const m of await installed(provider)) out.push({ name: m.name, size_bytes: m.sizeBytes });
          }
          return out;
        }, opts),
        serveOperation(deps.bus, subjects, 'models.load', load, opts),
        serveOperation(deps.bus, subjects, 'models.unload', unload, opts),
        serveOperation(deps.bus, subjects, 'models.status', status, opts),
      );
    },
    stop(): void {
      for (const s of subscriptions.splice(0)) s.unsubscribe();
    },
  };
}

export type ModelManager = ReturnType<typeof createModelManager>;
