// Tools for LLM agents: the registry, the built-in tools, and the capability that runs a call.
// Other families (agent:<name>, browser.*) register through createToolRegistry's deps.
import type { HttpFetchOptions } from './http-fetch.js';
import { currentTimeTool } from './current-time.js';
import { httpFetchTool } from './http-fetch.js';
import type { Tool } from './tool.js';

export type { Tool, ToolContext, ToolFamily, ToolRegistry, ToolSpec } from './tool.js';
export { createToolRegistry, type ToolRegistryDeps } from './registry.js';
export { CURRENT_TIME, currentTimeTool } from './current-time.js';
export { HTTP_FETCH, HTTP_FETCH_LIMITS, httpFetchTool, type HttpFetchOptions } from './http-fetch.js';
export { toolCapability, type ToolCall, type ToolCallResult, type ToolCapabilityOptions } from './capability.js';

/** current_time and http_fetch. */
export function builtinTools(options: HttpFetchOptions = {}): Tool[] {
  return [currentTimeTool(), httpFetchTool(options)];
}
