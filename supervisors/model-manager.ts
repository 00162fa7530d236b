// The model manager: lists, loads, unloads and pulls models on the LLM provider and remembers when
// Aurora loaded each one. Provider listings are cached; Aurora's own changes invalidate them. The
// pull jobs themselves are model-pulls.ts; this serves them on the bus.
import type { Bus, Subscription } from '../runtime/bus/bus.js';
import { getOrLoad, type Cache } from '../runtime/cache/cache.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import { AuroraError } from '../runtime/errors.js';
import type { EventPublisher } from '../runtime/events.js';
import type { Logger } from '../runtime/logger.js';
import { sameModelName, type LlmProvider } from '../runtime/providers/llm.js';
import { modelMissingMessage } from '../runtime/providers/remedies.js';
import { MODEL_NAME_PATTERN, type LoadedModel, type ModelStatus, type ReplyOf, type RequestOf } from '../runtime/protocol/index.js';
import { serveOperation } from '../runtime/rpc.js';
import type { Store } from '../runtime/store/index.js';
import type { Subjects } from '../runtime/subjects.js';
import { forgetModel, type ModelFacts } from './model-facts.js';
import { createModelPulls } from './model-pulls.js';

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
  /** What the registry caches about models: a completed pull makes it stale. */
  facts: Pick<ModelFacts, 'invalidate'>;
  pullMaxConcurrent: number;
}

const PULLABLE_NAME = new RegExp(MODEL_NAME_PATTERN, 'u');

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

  const pulls = createModelPulls({
    store,
    events,
    clock: deps.clock,
    logger: deps.logger,
    providers: deps.providers,
    maxConcurrent: deps.pullMaxConcurrent,
    onInstalled: async (provider, model) => {
      await Promise.all([invalidate(provider), deps.facts.invalidate(provider), forgetModel(cache, provider, model)]);
    },
  });

  /** Whether the provider has the model; a stale listing must not say no to one installed a moment ago. */
  async function hasModel(provider: string, name: string): Promise<boolean> {
    if ((await installed(provider)).some((m) => sameModelName(m.name, name))) return true;
    await invalidate(provider);
    return (await installed(provider)).some((m) => sameModelName(m.name, name));
  }

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
    if (!(await hasModel(provider, name))) throw new AuroraError('model_not_found', modelMissingMessage(name));
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
    if (!found && !running) throw new AuroraError('model_not_found', modelMissingMessage(name));
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

  async function pull({ name, provider, if_missing, wait_ms }: RequestOf<'models.pull'>): Promise<ReplyOf<'models.pull'>> {
    providerOf(provider);
    // The gateway's schema says the same; checked here too because the name goes to the provider's
    // registry client whoever asks on the bus.
    if (!PULLABLE_NAME.test(name)) {
      throw new AuroraError('invalid_request', `name: "${name}" is not a model name that can be pulled (letters, digits and ._-:/, no "..")`);
    }
    if (if_missing && (await hasModel(provider, name))) return null;
    const started = pulls.start(name, provider);
    const answer = wait_ms > 0 ? await pulls.wait(started.pull_id, wait_ms) : started;
    // Nobody hears of a pull whose row a crash could still undo (the next start must find it).
    await new Promise<void>((resolve) => store.afterCommit(() => resolve()));
    return answer;
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
        serveOperation(deps.bus, subjects, 'models.pull', pull, opts),
        serveOperation(deps.bus, subjects, 'models.pull_get', ({ pull_id }) => pulls.get(pull_id), opts),
        serveOperation(deps.bus, subjects, 'models.pull_cancel', ({ pull_id }) => pulls.cancel(pull_id), opts),
      );
    },
    stop(): void {
      for (const s of subscriptions.splice(0)) s.unsubscribe();
      // Nobody could cancel or ask after them any more; Ollama keeps the layers that arrived, so
      // pulling again resumes.
      pulls.interruptAll('Aurora stopped while the pull was running; pull again to resume');
    },
  };
}

export type ModelManager = ReturnType<typeof createModelManager>;
