// The workflows service: workflow definitions created, read, listed, versioned and deleted over the
// bus. Every write is checked here (actors/workflow/validate.ts) against this node's agents, after
// the gateway has checked the body against the schema, and acknowledged once it is committed.
import { validateWorkflow } from '../actors/workflow/validate.js';
import type { Bus, Subscription } from '../runtime/bus/bus.js';
import { isoNow, type Clock } from '../runtime/clock.js';
import { AuroraError } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import type { WorkflowDefinition, WorkflowNode } from '../runtime/protocol/index.js';
import { serveOperation } from '../runtime/rpc.js';
import { WORKFLOW_AGENT_PREFIX, workflowAgentName, workflowOfAgent } from './workflow-runs.js';
import { durable, type Store } from '../runtime/store/index.js';
import type { Subjects } from '../runtime/subjects.js';

export interface WorkflowsServiceDeps {
  bus: Bus;
  subjects: Subjects;
  store: Store;
  clock: Clock;
  logger: Logger;
}

interface DefinitionFields {
  name: string;
  description?: string;
  input_schema?: Record<string, unknown>;
  graph: unknown;
}

export function createWorkflowsService(deps: WorkflowsServiceDeps) {
  const { bus, subjects, store } = deps;
  const subscriptions: Subscription[] = [];
  // Definitions name agents, which live in each node's store: the registry's queue group serves
  // them, as it does threads, so the agent check reads the same store the agents are in.
  const opts = { queue: subjects.queue('registry'), logger: deps.logger };

  /** The definition as stored, once it passes every check. */
  const checked = (fields: DefinitionFields): WorkflowDefinition => {
    const definition: WorkflowDefinition = {
      name: fields.name,
      description: fields.description ?? '',
      input_schema: fields.input_schema ?? null,
      // The gateway validated it against WorkflowNodeSchema; the bus carries it as plain JSON.
      graph: fields.graph as WorkflowNode,
    };
    validateWorkflow(definition, {
      // A workflow's agent (wf.<name>) is made on its first run, so an existing workflow is enough.
      agentExists: (name) => store.agents.get(name) !== undefined || workflowOfAgent(store, name) !== undefined,
      selfAgent: workflowAgentName(definition.name),
      workflowOf: (agent) =>
        agent.startsWith(WORKFLOW_AGENT_PREFIX) ? store.workflows.get(agent.slice(WORKFLOW_AGENT_PREFIX.length))?.graph : undefined,
    });
    return definition;
  };

  return {
    start(): void {
      subscriptions.push(
        serveOperation(bus, subjects, 'workflows.create', (req) => {
          // A taken name is the answer before the graph is judged: the client learns to PUT instead.
          if (store.workflows.get(req.name) !== undefined) {
            throw new AuroraError('workflow_exists', `Workflow ${req.name} already exists; PUT /api/v1/workflows/${req.name} adds a version`);
          }
          return durable(store, store.workflows.create(checked(req), isoNow(deps.clock)));
        }, opts),
        serveOperation(bus, subjects, 'workflows.update', (req) => {
          if (store.workflows.get(req.name) === undefined) throw notFound(req.name);
          return durable(store, store.workflows.update(checked(req), isoNow(deps.clock)));
        }, opts),
        serveOperation(bus, subjects, 'workflows.get', ({ name, version }) => {
          const record = store.workflows.get(name, version);
          if (record !== undefined) return record;
          if (version === undefined || store.workflows.get(name) === undefined) throw notFound(name);
          throw new AuroraError('workflow_not_found', `Workflow ${name} has no version ${version}`);
        }, opts),
        serveOperation(bus, subjects, 'workflows.list', ({ limit, cursor }) =>
          store.workflows.page({ limit, ...(cursor !== undefined && { cursor }) }), opts),
        serveOperation(bus, subjects, 'workflows.delete', ({ name }) => {
          const versions = store.workflows.delete(name);
          if (versions === 0) throw notFound(name);
          return durable(store, { name, versions_deleted: versions });
        }, opts),
      );
    },
    stop(): void {
      for (const s of subscriptions.splice(0)) s.unsubscribe();
    },
  };
}

function notFound(name: string): AuroraError {
  return new AuroraError('workflow_not_found', `Workflow ${name} not found`);
}
