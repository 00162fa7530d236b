// The capabilities a node offers its agents: the effects their hosts perform on their behalf.
// Kinds name the ones they need (actors/<kind>/); each is built here from the node's resources.
import type { CapabilityTable } from '../../actors/kind.js';
import { LLM_CHAT, THREAD_READ, TOOL_CALL, TOOL_RELEASE } from '../../actors/llm/effects.js';
import type { Bus } from '../../runtime/bus/bus.js';
import type { Clock } from '../../runtime/clock.js';
import type { Config } from '../../runtime/config.js';
import type { EventPublisher } from '../../runtime/events.js';
import type { Logger } from '../../runtime/logger.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { LlmProvider } from '../../runtime/providers/llm.js';
import type { Store } from '../../runtime/store/index.js';
import type { Subjects } from '../../runtime/subjects.js';
import type { BrowserPool } from '../browser/pool.js';
import { agentCallFamily } from './agent-call.js';
import { browserCapabilities, createBrowserActor } from './browser.js';
import { browserToolFamily } from './tools/browser.js';
import { llmChat } from './llm-chat.js';
import { threadRead } from './thread-read.js';
import { toolCall } from './tool-call.js';
import { workflowCapabilities } from './workflow.js';
import { builtinTools, createToolRegistry, type ToolRegistry } from './tools/index.js';

export interface CapabilityResources {
  readonly providers: Readonly<Record<string, LlmProvider>>;
  readonly store: Store;
  readonly bus: Bus;
  readonly subjects: Subjects;
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: EventPublisher;
  readonly metrics: Metrics;
  /** The node's Chromium workers; browser agents need them. */
  readonly browsers: BrowserPool;
}

export interface NodeCapabilities {
  readonly table: CapabilityTable;
  readonly tools: ToolRegistry;
}

export function createCapabilities(resources: CapabilityResources): NodeCapabilities {
  const { providers, store, clock } = resources;
  const browser = createBrowserActor({ ...resources, pool: resources.browsers });
  const tools = createToolRegistry({ clock, tools: builtinTools(), families: [agentCallFamily(resources), browserToolFamily(browser)] });
  return {
    tools,
    table: {
      [LLM_CHAT]: llmChat(providers, tools),
      [THREAD_READ]: threadRead(store),
      [TOOL_CALL]: toolCall(tools, clock),
      [TOOL_RELEASE]: async (_input, ctx) => {
        tools.release(ctx.taskId);
        return {};
      },
      ...workflowCapabilities(resources),
      ...browserCapabilities(browser),
    },
  };
}
