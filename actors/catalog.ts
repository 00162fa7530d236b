// The one list of agent kinds this build runs. Adding a kind is its folder actors/<kind>/ and one
// line here.
import { browserKind } from './browser/kind.js';
import type { AgentKind } from './kind.js';
import { llmKind } from './llm/kind.js';
import { workflowKind } from './workflow/kind.js';

export const AGENT_KINDS: readonly AgentKind[] = [llmKind, workflowKind, browserKind];
