// The capabilities a node offers its agents: the effects their hosts perform on their behalf.
// Kinds name the ones they need (actors/<kind>/); each is built here from the node's resources.
import type { CapabilityTable } from '../../actors/kind.js';
import { LLM_CHAT } from '../../actors/llm/machine.js';
import type { LlmProvider } from '../../runtime/providers/llm.js';
import { llmChat } from './llm-chat.js';

export interface CapabilityResources {
  readonly providers: Readonly<Record<string, LlmProvider>>;
}

export function createCapabilities(resources: CapabilityResources): CapabilityTable {
  return { [LLM_CHAT]: llmChat(resources.providers) };
}
