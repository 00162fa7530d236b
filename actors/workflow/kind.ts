// The `workflow` kind: an agent that runs one workflow; each of its tasks is a run of it. Created
// with the workflow (the workflows service), named after it.
import { Type } from '@sinclair/typebox';
import { NODE_ID_PATTERN } from '../../runtime/protocol/index.js';
import { NO_PROVIDER, type AgentKind } from '../kind.js';
import { WORKFLOW_FINISH, WORKFLOW_LOAD, WORKFLOW_STEP, WORKFLOW_TIMER } from './effects.js';
import { workflowMachine } from './machine.js';

export const workflowKind: AgentKind = {
  name: 'workflow',
  description: 'Runs a workflow: each task is a run of its graph, steps are tasks of other agents',
  providers: [NO_PROVIDER],
  configSchema: Type.Object(
    { workflow: Type.String({ pattern: NODE_ID_PATTERN, description: 'The workflow this agent runs' }) },
    { additionalProperties: false },
  ),
  events: ['run.step'],
  machine: workflowMachine,
  capabilities: [WORKFLOW_LOAD, WORKFLOW_STEP, WORKFLOW_TIMER, WORKFLOW_FINISH],
  // Runs mostly wait on other agents: many may be in flight at once.
  slots: () => 64,
  resumable: true,
};
