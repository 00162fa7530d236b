// Models on the LLM provider: which are installed, which are loaded, and loading them.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, LIMITS, Nullable } from './common.js';
import { EXAMPLE } from './examples.js';

export const LoadedModel = Type.Object({
  name: Type.String({ description: 'Model name as it was loaded' }),
  provider: Type.String({ description: 'LLM provider holding it' }),
  loaded_at: IsoTime({ description: 'When Aurora loaded it' }),
});
export type LoadedModel = Static<typeof LoadedModel>;

export const InstalledModel = Type.Object({ name: Type.String(), size_bytes: Nullable('integer') });
export type InstalledModel = Static<typeof InstalledModel>;

export const ModelStatus = Type.Object(
  {
    name: Type.String({ description: 'Model name' }),
    provider: Type.String({ description: 'LLM provider asked' }),
    installed: Type.Boolean({ description: 'The provider has the model (pulled)' }),
    loaded: Type.Boolean({ description: 'The model is in the provider\'s memory now' }),
    loaded_at: Nullable('string', { description: 'When Aurora loaded it; null when not loaded through Aurora' }),
    size_bytes: Nullable('integer', { description: 'Size on disk; null when not installed' }),
    expires_at: Nullable('string', { description: 'When the provider will unload the model' }),
  },
  {
    examples: [
      {
        name: EXAMPLE.model,
        provider: EXAMPLE.provider,
        installed: true,
        loaded: true,
        loaded_at: EXAMPLE.time,
        size_bytes: 3826793677,
        expires_at: '2025-01-31T12:05:00.000Z',
      },
    ],
  },
);
export type ModelStatus = Static<typeof ModelStatus>;

export const ModelRef = Type.Object({ name: Type.String(), provider: Type.String() });
export type ModelRef = Static<typeof ModelRef>;

export const ModelLoadRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: LIMITS.modelNameMaxLength, description: 'Model name as the provider knows it' }),
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 64, default: 'ollama', description: 'LLM provider to load it in' })),
    config: Type.Optional(Type.Object({}, { default: {}, description: 'Provider options for the load (kept with the loaded model)' })),
    pull: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Pull the model first when the provider does not have it (the name must then be a pullable model name)',
      }),
    ),
  },
  { additionalProperties: false, examples: [{ name: EXAMPLE.model, provider: EXAMPLE.provider }] },
);
export interface ModelLoadBody {
  name: string;
  provider: string;
  config: Record<string, unknown>;
  pull: boolean;
}

export const ModelMap = Type.Object(
  {
    models: Type.Record(Type.String(), LoadedModel, { description: 'Loaded models by key `model:<provider>:<name>`' }),
    count: Type.Integer({ description: 'How many models are loaded' }),
  },
  {
    examples: [
      {
        models: { [`model:${EXAMPLE.provider}:${EXAMPLE.model}`]: { name: EXAMPLE.model, provider: EXAMPLE.provider, loaded_at: EXAMPLE.time } },
        count: 1,
      },
    ],
  },
);

export const ModelLoaded = Type.Object(
  {
    message: Type.String({ description: 'What was done, for people' }),
    name: Type.String({ description: 'Model name' }),
    provider: Type.String({ description: 'LLM provider it was loaded in' }),
  },
  { examples: [{ message: `Model ${EXAMPLE.model} loaded successfully`, name: EXAMPLE.model, provider: EXAMPLE.provider }] },
);
