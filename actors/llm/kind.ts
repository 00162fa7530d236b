// The `llm` kind: an agent whose definition is its behaviour — a system prompt, model options,
// tools (built-in ones and other agents), structured output, conversations in threads, and up to
// max_concurrency tasks at once.
import type { AgentKind } from '../kind.js';
import { LlmConfig } from './config.js';
import { LLM_CHAT, THREAD_READ, TOOL_CALL, TOOL_RELEASE } from './effects.js';
import { llmMachine } from './machine.js';
import { compileUserSchema } from '../../runtime/validation.js';

export const llmKind: AgentKind = {
  name: 'llm',
  description: 'Answers each task with its model: system prompt, options, tools, structured output, threads',
  providers: ['ollama'],
  configSchema: LlmConfig,
  events: ['task.tool_call', 'task.tool_result'],
  machine: llmMachine,
  capabilities: [LLM_CHAT, THREAD_READ, TOOL_CALL, TOOL_RELEASE],
  slots: (definition) => (definition.config as LlmConfig).max_concurrency,
  check(definition, node) {
    const config = definition.config as LlmConfig;
    for (const tool of config.tools ?? []) {
      if (tool === `agent:${definition.name}`) return `config.tools: an agent cannot call itself (${tool})`;
      if (!node.hasTool(tool)) return `config.tools: unknown tool ${tool} (known: ${node.toolNames().join(', ')}, agent:<name>)`;
    }
    if (config.output_schema !== undefined) {
      const compiled = compileUserSchema(config.output_schema);
      if (typeof compiled === 'string') return `config.output_schema: not a valid JSON Schema: ${compiled}`;
    }
    return undefined;
  },
  modelNeeds: (definition) => ((definition.config as LlmConfig).tools?.length ? ['tools'] : []),
};
