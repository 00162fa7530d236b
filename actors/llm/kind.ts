// The `llm` kind: an agent that answers each task with one call to its model.
import { Type } from '@sinclair/typebox';
import type { AgentKind } from '../kind.js';
import { LLM_CHAT, llmMachine } from './machine.js';

export const llmKind: AgentKind = {
  name: 'llm',
  description: 'Answers each task with one chat call to its model',
  providers: ['ollama'],
  // Stored and returned as given; what the kind reads from it is documented with the kind.
  configSchema: Type.Object({}, { additionalProperties: true, description: 'Free-form settings, stored with the agent' }),
  events: [],
  machine: llmMachine,
  capabilities: [LLM_CHAT],
};
