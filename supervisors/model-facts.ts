// What the registry needs to know about models when agents are defined: whether the provider has
// the model, and whether the model can do what the agent needs (tools). Listings are cached (the
// model manager shares them), and a provider that cannot be asked never blocks a definition: the
// agent is accepted and shows model_installed: null.
import { getOrLoad, type Cache } from '../runtime/cache/cache.js';
import type { Clock } from '../runtime/clock.js';
import { AuroraError } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import { canonicalModelName, type InstalledModel, type LlmProvider } from '../runtime/providers/llm.js';

export interface ModelFactsDeps {
  cache: Cache;
  clock: Clock;
  providers: Readonly<Record<string, LlmProvider>>;
  cacheTtlMs: number;
  logger: Logger;
}

export interface ModelFacts {
  /** The provider's installed models (cached); rejects when the provider cannot be asked. */
  listInstalled(provider: string): Promise<InstalledModel[]>;
  /** Canonical names of installed models, or null when the provider cannot be asked. */
  installedNames(provider: string): Promise<ReadonlySet<string> | null>;
  /**
   * Whether `model` is installed (null: unknown), refusing with invalid_request a model the provider
   * has that lacks one of `needs`.
   */
  check(provider: string, model: string, needs: readonly string[]): Promise<boolean | null>;
  /** Forgets cached listings of `provider` (after a load, unload or pull). */
  invalidate(provider: string): Promise<void>;
}

export const installedKey = (provider: string) => `models:${provider}:installed`;

export function createModelFacts(deps: ModelFactsDeps): ModelFacts {
  const providerOf = (name: string): LlmProvider => {
    const provider = deps.providers[name];
    if (!provider) throw new AuroraError('invalid_request', `Unknown provider: ${name}`);
    return provider;
  };
  const listInstalled = (provider: string) =>
    getOrLoad(deps.cache, installedKey(provider), deps.cacheTtlMs, () => providerOf(provider).listInstalled());

  // The set of names is kept for the cache's TTL in this process too: creating many agents would
  // otherwise decode the listing and build the set once per agent.
  const names = new Map<string, { at: number; names: ReadonlySet<string> }>();

  return {
    listInstalled,
    async installedNames(provider) {
      const known = names.get(provider);
      if (known !== undefined && deps.clock.now() - known.at < deps.cacheTtlMs) return known.names;
      try {
        const fresh = new Set((await listInstalled(provider)).map((m) => canonicalModelName(m.name)));
        names.set(provider, { at: deps.clock.now(), names: fresh });
        return fresh;
      } catch (err) {
        if (!(err instanceof AuroraError)) throw err;
        return null;
      }
    },
    async check(provider, model, needs) {
      // Nothing to ask of the model: the cached listing answers whether it is installed.
      if (needs.length === 0) {
        const names = await this.installedNames(provider);
        return names === null ? null : names.has(canonicalModelName(model));
      }
      let info;
      try {
        // Wrapped so that "not installed" (null) is cached too: null reads back as a miss.
        const shown = await getOrLoad(deps.cache, `models:${provider}:show:${canonicalModelName(model)}`, deps.cacheTtlMs, async () => ({
          info: await providerOf(provider).show(model),
        }));
        info = shown.info;
      } catch (err) {
        if (!(err instanceof AuroraError) || err.code === 'invalid_request') throw err;
        deps.logger.debug('model not checked: the provider did not answer', { provider, model, code: err.code });
        return null;
      }
      if (info === null) return false;
      const missing = needs.filter((n) => !info.capabilities.includes(n));
      if (missing.length > 0) {
        throw new AuroraError(
          'invalid_request',
          `Model ${model} does not support ${missing.join(', ')} (its capabilities: ${info.capabilities.join(', ') || 'none'}); ` +
            `choose a model that does, or change the agent's config`,
        );
      }
      return true;
    },
    invalidate: async (provider) => {
      names.delete(provider);
      await deps.cache.del(installedKey(provider)).catch(() => undefined);
    },
  };
}

/** Forgets what is cached about one model (after a pull installs it or a delete removes it). */
export async function forgetModel(cache: Cache, provider: string, model: string): Promise<void> {
  await Promise.allSettled([cache.del(installedKey(provider)), cache.del(`models:${provider}:show:${canonicalModelName(model)}`)]);
}


