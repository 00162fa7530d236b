// The agent kinds a gateway under test serves: the catalog's, described the way the composition
// root hands them to the gateway.
import { AGENT_KINDS } from '../../actors/catalog.js';
import { describeKind } from '../../actors/kind.js';
import type { AgentKindDescriptor } from '../../runtime/protocol/index.js';

export const TEST_KINDS: readonly AgentKindDescriptor[] = AGENT_KINDS.map(describeKind);
