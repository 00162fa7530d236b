// What the gateway knows of the agent kinds it serves: their names, providers, config schemas and
// event types, handed to it by the composition root (it never imports a kind's machine).
import { CORE_EVENT_TYPES, type AgentKindDescriptor } from '../runtime/protocol/index.js';

export function kindNames(kinds: readonly AgentKindDescriptor[]): string[] {
  return kinds.map((k) => k.name);
}

/** Every provider some kind accepts, in first-seen order. */
export function providerNames(kinds: readonly AgentKindDescriptor[]): string[] {
  return [...new Set(kinds.flatMap((k) => k.providers))];
}

/** Every event type a client may subscribe to: the core ones, then each kind's own. */
export function eventTypes(kinds: readonly AgentKindDescriptor[]): string[] {
  return [...new Set([...CORE_EVENT_TYPES, ...kinds.flatMap((k) => k.events)])];
}
