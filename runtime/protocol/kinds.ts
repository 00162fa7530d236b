// What the outside world (the gateway, its documents) knows of an agent kind. The kind itself, with
// its machine and the capabilities it asks for, lives in actors/<kind>/.
import type { TSchema } from '@sinclair/typebox';

export interface AgentKindDescriptor {
  /** The `agent_type` that selects it. */
  readonly name: string;
  readonly description: string;
  /** Providers an agent of this kind may name. */
  readonly providers: readonly string[];
  /** The agent's `config` for this kind, validated at create. */
  readonly configSchema: TSchema;
  /** Event types this kind publishes besides the core ones. */
  readonly events: readonly string[];
}
