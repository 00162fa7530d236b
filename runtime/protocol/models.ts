// Models on the LLM provider: which are installed, which are loaded, and loading them.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, LIMITS, Nullable } from './common.js';

export const LoadedModel = Type.Object({
  name: Type.String(),
  provider: Type.String(),
  loaded_at: IsoTime(),
});
export type LoadedModel = Static<typeof LoadedModel>;

export const InstalledModel = Type.Object({ name: Type.String(), size_bytes: Nullable('integer') });
export type InstalledModel = Static<typeof InstalledModel>;

export const ModelStatus = Type.Object({
  name: Type.String(),
  provider: Type.String(),
  installed: Type.Boolean(),
  loaded: Type.Boolean(),
  loaded_at: Nullable('string'),
  size_bytes: Nullable('integer'),
  expires_at: Nullable('string', { description: 'When the provider will unload the model' }),
});
export type ModelStatus = Static<typeof ModelStatus>;

export const ModelRef = Type.Object({ name: Type.String(), provider: Type.String() });
export type ModelRef = Static<typeof ModelRef>;

export const ModelLoadRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: LIMITS.modelNameMaxLength }),
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 64, default: 'ollama' })),
    config: Type.Optional(Type.Object({}, { default: {} })),
    pull: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Pull the model first when the provider does not have it (the name must then be a pullable model name)',
      }),
    ),
  },
  { additionalProperties: false },
);
export interface ModelLoadBody {
  name: string;
  provider: string;
  config: Record<string, unknown>;
  pull: boolean;
}

export const ModelMap = Type.Object({
  models: Type.Record(Type.String(), LoadedModel),
  count: Type.Integer(),
});

export const ModelLoaded = Type.Object({ message: Type.String(), name: Type.String(), provider: Type.String() });
