// Checking an agent's definition against its kind and the node before it is stored: the kind and
// provider exist, the config matches the kind's schema, the kind's own checks (its tools exist…)
// pass, and the model can do what the agent needs. Used at create and at update alike.
import { NO_PROVIDER, type AgentKind, type CapabilityTable, type NodeFacts } from '../actors/kind.js';
import { AuroraError } from '../runtime/errors.js';
import type { AgentDefinition } from '../runtime/protocol/index.js';
import { compileValidator, type Validator } from '../runtime/validation.js';
import type { ModelFacts } from './model-facts.js';

interface KnownKind {
  readonly kind: AgentKind;
  readonly validateConfig: Validator<Record<string, unknown>>;
}

export interface Definitions {
  /** The kind named `agentType`; invalid_request when this node runs no such kind. */
  kind(agentType: string): AgentKind;
  has(agentType: string): boolean;
  /** Validates (and fills the config's defaults into) `definition`; answers whether its model is installed. */
  check(definition: AgentDefinition): Promise<boolean | null>;
}

/** Checks the kinds against this node once: a kind asking for a capability the node lacks is a wiring defect. */
export function createDefinitions(
  kinds: readonly AgentKind[],
  capabilities: CapabilityTable,
  node: NodeFacts,
  models: ModelFacts,
): Definitions {
  const known = new Map<string, KnownKind>();
  for (const kind of kinds) {
    if (known.has(kind.name)) throw new Error(`Two agent kinds are named ${kind.name}`);
    const missing = kind.capabilities.filter((c) => !Object.hasOwn(capabilities, c));
    if (missing.length > 0) throw new Error(`Agent kind ${kind.name} needs capabilities this node lacks: ${missing.join(', ')}`);
    known.set(kind.name, { kind, validateConfig: compileValidator(kind.configSchema, 'config') });
  }

  const lookup = (agentType: string): KnownKind => {
    const k = known.get(agentType);
    if (!k) throw new AuroraError('invalid_request', `Unknown agent_type: ${agentType}`);
    return k;
  };

  return {
    kind: (agentType) => lookup(agentType).kind,
    has: (agentType) => known.has(agentType),
    async check(definition) {
      const { kind, validateConfig } = lookup(definition.agent_type);
      if (!kind.providers.includes(definition.provider)) {
        throw new AuroraError('invalid_request', `Unknown provider for agent_type ${definition.agent_type}: ${definition.provider}`);
      }
      const checked = validateConfig(definition.config);
      if (!checked.ok) throw new AuroraError('invalid_request', checked.message);
      const problem = kind.check?.(definition, node);
      if (problem !== undefined) throw new AuroraError('invalid_request', problem);
      if (definition.provider === NO_PROVIDER) return null;
      return models.check(definition.provider, definition.model_name, kind.modelNeeds?.(definition) ?? []);
    },
  };
}
