// Every wire shape, declared once (TypeBox): the TypeScript types, the validating JSON Schemas,
// the serializers and the OpenAPI document all derive from these. Imports nothing of ours.
export * from './agents.js';
export * from './common.js';
export * from './envelope.js';
export * from './events.js';
export * from './http.js';
export * from './kinds.js';
export * from './models.js';
export * from './operations.js';
export * from './pulls.js';
export * from './tasks.js';
export * from './llm.js';
export * from './threads.js';
export * from './idempotency.js';
export * from './workflows.js';
export * from './runs.js';
export * from './examples.js';
export * from './supervision.js';
export * from './browser.js';
export * from './cluster.js';
