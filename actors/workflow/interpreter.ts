// One workflow run as a pure interpreter over its graph. Every node is a frame; composite nodes
// (sequence, parallel, map, router, loop) start child frames and combine what they answer; agent
// nodes ask the host to run a step (a task on that agent, over the bus). No I/O and no clock: the
// machine (machine.ts) holds the run and the host performs its effects (effects.ts).
//
// Supervision inside the run: a parallel node with on_error fail_fast stops every sibling when one
// branch fails (OTP's one_for_all); settle lets the others run and reports each outcome
// (one_for_one). A failed node is run again per its `retry` (after a backoff timer) before its
// failure reaches its parent. Cancelling a frame cancels its whole subtree down to the agent tasks.
//
// Resuming: steps that completed are checkpointed by the host with their path. A run started again
// (after a crash or a restart of the process) replays the graph, and a step whose path has a
// checkpoint completes at once with the recorded output: no completed step runs twice.
import { AuroraError } from '../../runtime/errors.js';
import type { Condition, RunTrace, WorkflowNode } from '../../runtime/protocol/index.js';
import type { MachineEmitted } from '../kind.js';
import { WORKFLOW_FINISH, WORKFLOW_STEP, WORKFLOW_TIMER, type StepInput, type StepOutput } from './effects.js';
import { formatPath, lookup, parsePath, parseTemplate, render } from './template.js';
import { ROUTER_FINISH } from './validate.js';

const DEFAULT_MAX_HANDOFFS = 10;

type Outcome = { ok: true; output: unknown } | { ok: false; error: AuroraError };

/** What a node's templates can read. Child scopes chain to their parent's steps. */
interface Scope {
  input: unknown;
  steps: Record<string, { output: unknown }>;
  item?: unknown;
  index?: number;
  iteration?: number;
}

interface Frame {
  readonly key: string;
  readonly path: string[];
  readonly node: WorkflowNode;
  readonly parent: string | null;
  /** Which child of its parent it is (branch, item, step index). */
  readonly slot: number;
  readonly scope: Scope;
  attempt: number;
  done: boolean;
  /** Children running now, by key. */
  readonly running: Set<string>;
  /** sequence: next step; loop: iteration; router: handoffs; parallel/map: next index to start. */
  cursor: number;
  /** parallel/map: outcome per slot. */
  outcomes: (Outcome | undefined)[];
  /** map: the items. */
  items: unknown[];
  /** The last child output (sequence, loop, router). */
  last: unknown;
  /** The effect this frame waits for: its agent step, or its retry timer. */
  effect: string | null;
  /** Effect id of the timer bounding this frame (timeout_ms), if any. */
  timeout: string | null;
}

export interface WorkflowRun {
  readonly runId: string;
  readonly input: unknown;
  readonly graph: WorkflowNode;
  /** Outputs of steps that completed in an earlier incarnation of the run, by path key. */
  readonly checkpoints: ReadonlyMap<string, StepOutput>;
  /** Steps an earlier incarnation left running, with the attempt they were on, by path key. */
  readonly interrupted: Map<string, number>;
  readonly trace: RunTrace;
  readonly frames: Map<string, Frame>;
  readonly waiting: Map<string, { frame: string; kind: 'step' | 'retry' | 'timeout' }>;
  nextEffect: number;
  tokens: number;
  finished: boolean;
}

export interface Step {
  run: WorkflowRun;
  emits: MachineEmitted[];
}

const keyOf = (path: readonly string[]): string => path.join('/');

// ---------------------------------------------------------------- entry points

/** Where an earlier incarnation of the run got to; empty for a new run. */
export interface Resume {
  checkpoints: ReadonlyMap<string, StepOutput>;
  interrupted: Map<string, number>;
}

export function startWorkflowRun(runId: string, graph: WorkflowNode, input: unknown, trace: RunTrace, resume: Resume): Step {
  const run: WorkflowRun = {
    runId,
    input,
    graph,
    checkpoints: resume.checkpoints,
    interrupted: resume.interrupted,
    trace,
    frames: new Map(),
    waiting: new Map(),
    nextEffect: 1,
    tokens: 0,
    finished: false,
  };
  const emits: MachineEmitted[] = [];
  startFrame(run, emits, graph, [graph.id], null, 0, { input, steps: {} });
  return { run, emits };
}

export function onEffectDone(run: WorkflowRun, effectId: string, output: unknown): Step {
  const emits: MachineEmitted[] = [];
  const waiting = run.waiting.get(effectId);
  if (waiting === undefined) return { run, emits };
  run.waiting.delete(effectId);
  const frame = run.frames.get(waiting.frame);
  if (frame === undefined || frame.done) return { run, emits };
  switch (waiting.kind) {
    case 'step': {
      frame.effect = null;
      const step = output as StepOutput;
      run.tokens += step.tokens;
      finishFrame(run, emits, frame, { ok: true, output: step.output });
      break;
    }
    case 'retry':
      frame.effect = null;
      beginNode(run, emits, frame);
      break;
    case 'timeout':
      frame.timeout = null;
      failFrame(run, emits, frame, new AuroraError('timeout', `${formatPath(frame.path)} ran past its timeout_ms (${frame.node.timeout_ms} ms)`));
      break;
  }
  return { run, emits };
}

export function onEffectFailed(run: WorkflowRun, effectId: string, error: unknown): Step | { defect: unknown } {
  const waiting = run.waiting.get(effectId);
  if (waiting === undefined) return { run, emits: [] };
  if (!(error instanceof AuroraError)) return { defect: error };
  run.waiting.delete(effectId);
  const emits: MachineEmitted[] = [];
  const frame = run.frames.get(waiting.frame);
  if (frame === undefined || frame.done) return { run, emits };
  frame.effect = null;
  failFrame(run, emits, frame, error);
  return { run, emits };
}

/** The run was cancelled (or timed out): every frame stops and the host aborts what is in flight. */
export function cancelWorkflowRun(run: WorkflowRun): MachineEmitted[] {
  const emits: MachineEmitted[] = [];
  const root = run.frames.get(keyOf([run.graph.id]));
  if (root !== undefined) stopFrame(run, emits, root);
  run.finished = true;
  return emits;
}

// ---------------------------------------------------------------- frames

function startFrame(
  run: WorkflowRun,
  emits: MachineEmitted[],
  node: WorkflowNode,
  path: string[],
  parent: string | null,
  slot: number,
  scope: Scope,
): void {
  const frame: Frame = {
    key: keyOf(path),
    path,
    node,
    parent,
    slot,
    scope,
    attempt: 1,
    done: false,
    running: new Set(),
    cursor: 0,
    outcomes: [],
    items: [],
    last: null,
    effect: null,
    timeout: null,
  };
  run.frames.set(frame.key, frame);
  if (parent !== null) run.frames.get(parent)!.running.add(frame.key);
  if (node.timeout_ms !== undefined) {
    frame.timeout = effect(run, emits, frame, 'timeout', WORKFLOW_TIMER, { ms: node.timeout_ms });
  }
  beginNode(run, emits, frame);
}

/** Starts (or restarts, for a retry) what a node does. */
function beginNode(run: WorkflowRun, emits: MachineEmitted[], frame: Frame): void {
  const { node } = frame;
  frame.cursor = 0;
  frame.outcomes = [];
  frame.last = null;
  try {
    switch (node.type) {
      case 'agent':
        return runAgentStep(run, emits, frame, node.agent, node.input, node.thread, node.output_schema, null);
      case 'sequence':
        return nextInSequence(run, emits, frame);
      case 'parallel':
        frame.outcomes = node.branches.map(() => undefined);
        return fillSlots(run, emits, frame);
      case 'map': {
        const items = lookup(frame.scope as unknown as Record<string, unknown>, parsePath(node.items) ?? []);
        if (!Array.isArray(items)) {
          throw new AuroraError('invalid_request', `${formatPath(frame.path)}: items ${node.items} is not a list in this run`);
        }
        frame.items = items;
        frame.outcomes = items.map(() => undefined);
        if (items.length === 0) return finishFrame(run, emits, frame, { ok: true, output: [] });
        return fillSlots(run, emits, frame);
      }
      case 'router':
        return askRouter(run, emits, frame);
      case 'loop':
        return nextIteration(run, emits, frame);
    }
  } catch (err) {
    if (!(err instanceof AuroraError)) throw err;
    failFrame(run, emits, frame, err);
  }
}

function runAgentStep(
  run: WorkflowRun,
  emits: MachineEmitted[],
  frame: Frame,
  agent: string,
  template: string,
  threadTemplate: string | undefined,
  outputSchema: Record<string, unknown> | undefined,
  routes: string[] | null,
): void {
  const where = formatPath(frame.path);
  const scope = frame.scope as unknown as Record<string, unknown>;
  let prompt = render(parseTemplate(template, where), scope, where);
  if (routes !== null) {
    prompt += `\n\nChoose the next step among: ${routes.join(', ')}, or "${ROUTER_FINISH}" when the work is done. Answer as JSON {"route": "<name>"}.`;
  }
  const thread = threadTemplate === undefined ? undefined : render(parseTemplate(threadTemplate, where), scope, where);
  const checkpoint = run.checkpoints.get(frame.key);
  if (checkpoint !== undefined) {
    // Completed in an earlier incarnation of this run: its recorded output, without running again.
    run.tokens += checkpoint.tokens;
    return finishFrame(run, emits, frame, { ok: true, output: checkpoint.output });
  }
  const lost = run.interrupted.get(frame.key);
  if (lost !== undefined) {
    // Running when the process died: that attempt failed; the node's retry decides what follows.
    run.interrupted.delete(frame.key);
    frame.attempt = Math.max(frame.attempt, lost);
    return failFrame(run, emits, frame, new AuroraError('interrupted', `${where} was running when Aurora stopped`));
  }
  const input: StepInput = {
    run_id: run.runId,
    trace: run.trace,
    path: frame.path,
    node_id: frame.node.id,
    type: frame.node.type,
    agent,
    prompt,
    attempt: frame.attempt,
    ...(thread !== undefined && { thread_id: thread }),
    ...(outputSchema !== undefined && { output_schema: outputSchema }),
    ...(frame.node.timeout_ms !== undefined && { timeout_ms: frame.node.timeout_ms }),
  };
  frame.effect = effect(run, emits, frame, 'step', WORKFLOW_STEP, input);
}

// ---------------------------------------------------------------- composite nodes

function nextInSequence(run: WorkflowRun, emits: MachineEmitted[], frame: Frame): void {
  const node = frame.node as Extract<WorkflowNode, { type: 'sequence' }>;
  if (frame.cursor >= node.steps.length) return finishFrame(run, emits, frame, { ok: true, output: frame.last });
  const step = node.steps[frame.cursor]!;
  startFrame(run, emits, step, [...frame.path, step.id], frame.key, frame.cursor, frame.scope);
}

/** parallel and map: start children while below max_concurrency. */
function fillSlots(run: WorkflowRun, emits: MachineEmitted[], frame: Frame): void {
  const node = frame.node as Extract<WorkflowNode, { type: 'parallel' | 'map' }>;
  const total = frame.outcomes.length;
  const limit = node.max_concurrency ?? total;
  while (!frame.done && frame.running.size < limit && frame.cursor < total) {
    const index = frame.cursor++;
    if (node.type === 'parallel') {
      const branch = node.branches[index]!;
      startFrame(run, emits, branch, [...frame.path, branch.id], frame.key, index, childScope(frame.scope));
    } else {
      const scope: Scope = { ...childScope(frame.scope), item: frame.items[index], index };
      startFrame(run, emits, node.node, [...frame.path, `${node.id}[${index}]`, node.node.id], frame.key, index, scope);
    }
  }
}

function askRouter(run: WorkflowRun, emits: MachineEmitted[], frame: Frame): void {
  const node = frame.node as Extract<WorkflowNode, { type: 'router' }>;
  const max = node.max_handoffs ?? DEFAULT_MAX_HANDOFFS;
  const routes = Object.keys(node.routes);
  if (frame.cursor >= max) {
    return failFrame(
      run,
      emits,
      frame,
      new AuroraError('max_handoffs_exceeded', `${formatPath(frame.path)} handed off ${frame.cursor} times (max_handoffs ${max}) without finishing`),
    );
  }
  // The decision of each handoff is a step of its own, so it is checkpointed like any other.
  const decision: Frame = {
    key: keyOf([...frame.path, `decide#${frame.cursor}`]),
    path: [...frame.path, `decide#${frame.cursor}`],
    node: { type: 'agent', id: `${node.id}-decide`, agent: node.agent, input: node.input },
    parent: frame.key,
    slot: -1,
    scope: frame.scope,
    attempt: 1,
    done: false,
    running: new Set(),
    cursor: 0,
    outcomes: [],
    items: [],
    last: null,
    effect: null,
    timeout: null,
  };
  run.frames.set(decision.key, decision);
  frame.running.add(decision.key);
  const schema = { type: 'object', properties: { route: { type: 'string', enum: [...routes, ROUTER_FINISH] } }, required: ['route'] };
  runAgentStep(run, emits, decision, node.agent, node.input, undefined, schema, routes);
}

function nextIteration(run: WorkflowRun, emits: MachineEmitted[], frame: Frame): void {
  const node = frame.node as Extract<WorkflowNode, { type: 'loop' }>;
  if (frame.cursor >= node.max_iterations) return finishFrame(run, emits, frame, { ok: true, output: frame.last });
  const scope: Scope = { ...childScope(frame.scope), iteration: frame.cursor };
  startFrame(run, emits, node.node, [...frame.path, `${node.id}#${frame.cursor}`, node.node.id], frame.key, frame.cursor, scope);
}

/** A child frame answered. */
function onChild(run: WorkflowRun, emits: MachineEmitted[], parent: Frame, child: Frame, outcome: Outcome): void {
  parent.running.delete(child.key);
  const node = parent.node;
  switch (node.type) {
    case 'agent':
      return;
    case 'sequence': {
      if (!outcome.ok) return failFrame(run, emits, parent, outcome.error);
      parent.scope.steps[child.node.id] = { output: outcome.output };
      parent.last = outcome.output;
      parent.cursor++;
      return nextInSequence(run, emits, parent);
    }
    case 'parallel':
    case 'map':
      return onSlot(run, emits, parent, child, outcome);
    case 'router': {
      if (!outcome.ok) return failFrame(run, emits, parent, outcome.error);
      if (child.slot === -1) {
        const route = (outcome.output as { route?: unknown } | null)?.route;
        if (route === ROUTER_FINISH) return finishFrame(run, emits, parent, { ok: true, output: parent.last });
        const next = typeof route === 'string' ? node.routes[route] : undefined;
        if (next === undefined) {
          return failFrame(run, emits, parent, new AuroraError('output_invalid', `${formatPath(parent.path)}: the router chose no known route`));
        }
        const path = [...parent.path, `${route}#${parent.cursor}`, next.id];
        return startFrame(run, emits, next, path, parent.key, parent.cursor, childScope(parent.scope));
      }
      parent.scope.steps[child.node.id] = { output: outcome.output };
      parent.last = outcome.output;
      parent.cursor++;
      return askRouter(run, emits, parent);
    }
    case 'loop': {
      if (!outcome.ok) return failFrame(run, emits, parent, outcome.error);
      parent.last = outcome.output;
      parent.scope.steps[child.node.id] = { output: outcome.output };
      parent.cursor++;
      if (node.until !== undefined && holds(node.until, { ...parent.scope, output: outcome.output })) {
        return finishFrame(run, emits, parent, { ok: true, output: outcome.output });
      }
      return nextIteration(run, emits, parent);
    }
  }
}

function onSlot(run: WorkflowRun, emits: MachineEmitted[], frame: Frame, child: Frame, outcome: Outcome): void {
  const node = frame.node as Extract<WorkflowNode, { type: 'parallel' | 'map' }>;
  frame.outcomes[child.slot] = outcome;
  if (node.type === 'parallel' && outcome.ok) frame.scope.steps[child.node.id] = { output: outcome.output };
  const total = frame.outcomes.length;
  const settled = frame.outcomes.filter((o) => o !== undefined);
  const successes = settled.filter((o) => o.ok);
  const failures = settled.filter((o) => !o.ok) as { ok: false; error: AuroraError }[];
  const join = node.type === 'parallel' ? (node.join ?? 'all') : 'all';
  const needed = join === 'all' ? total : join === 'any' ? 1 : Number(join.slice('quorum:'.length));
  const settle = node.type === 'parallel' && node.on_error === 'settle';
  if (join !== 'all' && successes.length >= needed) {
    // Enough answers: the rest are not needed any more.
    const outputs = successes.map((o) => (o as { output: unknown }).output);
    return finishFrame(run, emits, frame, { ok: true, output: join === 'any' ? outputs[0] : outputs.slice(0, needed) });
  }
  if (failures.length > 0 && !settle) {
    // fail_fast: one branch failed, so the siblings still running are stopped (one_for_all).
    return failFrame(run, emits, frame, failures[0]!.error);
  }
  // With settle, `all` collects every outcome; any and quorum fail once they can no longer be met.
  if (settle && join !== 'all' && total - failures.length < needed) {
    return failFrame(run, emits, frame, new AuroraError(failures[0]!.error.code, `${formatPath(frame.path)}: too few branches succeeded (${failures.length} failed)`));
  }
  if (settled.length < total) return fillSlots(run, emits, frame);
  const output = settle
    ? frame.outcomes.map((o) =>
        o!.ok ? { status: 'completed', output: o!.output } : { status: 'failed', error: o!.error.message, code: o!.error.code },
      )
    : frame.outcomes.map((o) => (o as { output: unknown }).output);
  finishFrame(run, emits, frame, { ok: true, output });
}

// ---------------------------------------------------------------- endings

function finishFrame(run: WorkflowRun, emits: MachineEmitted[], frame: Frame, outcome: Outcome): void {
  if (frame.done) return;
  frame.done = true;
  stopChildren(run, emits, frame);
  if (frame.timeout !== null) {
    run.waiting.delete(frame.timeout);
    frame.timeout = null;
  }
  run.frames.delete(frame.key);
  if (frame.parent === null) return finishRun(run, emits, outcome);
  const parent = run.frames.get(frame.parent);
  if (parent !== undefined && !parent.done) onChild(run, emits, parent, frame, outcome);
}

/** A node failed: run it again per its retry (after its backoff), else its parent hears of it. */
function failFrame(run: WorkflowRun, emits: MachineEmitted[], frame: Frame, error: AuroraError): void {
  if (frame.done) return;
  const retry = frame.node.retry;
  stopChildren(run, emits, frame);
  if (retry !== undefined && frame.attempt < retry.attempts && error.code !== 'task_cancelled' && error.code !== 'timeout') {
    frame.attempt++;
    const backoff = (retry.backoff_ms ?? 0) * 2 ** (frame.attempt - 2);
    frame.effect = effect(run, emits, frame, 'retry', WORKFLOW_TIMER, { ms: backoff });
    return;
  }
  finishFrame(run, emits, frame, { ok: false, error });
}

function stopChildren(run: WorkflowRun, emits: MachineEmitted[], frame: Frame): void {
  if (frame.effect !== null) {
    run.waiting.delete(frame.effect);
    emits.push({ type: 'effect.cancel', effectId: frame.effect });
    frame.effect = null;
  }
  for (const key of [...frame.running]) {
    const child = run.frames.get(key);
    if (child !== undefined) stopFrame(run, emits, child);
  }
  frame.running.clear();
}

/** Stops a frame and its subtree without telling its parent. */
function stopFrame(run: WorkflowRun, emits: MachineEmitted[], frame: Frame): void {
  frame.done = true;
  stopChildren(run, emits, frame);
  if (frame.timeout !== null) {
    run.waiting.delete(frame.timeout);
    emits.push({ type: 'effect.cancel', effectId: frame.timeout });
    frame.timeout = null;
  }
  run.frames.delete(frame.key);
}

function finishRun(run: WorkflowRun, emits: MachineEmitted[], outcome: Outcome): void {
  run.finished = true;
  const result = outcome.ok
    ? { status: 'completed' as const, output: outcome.output }
    : { status: 'failed' as const, error: outcome.error.message, code: outcome.error.code };
  emits.push({
    type: 'effect',
    effectId: `${run.runId}:finish`,
    taskId: run.runId,
    capability: WORKFLOW_FINISH,
    input: { run_id: run.runId, tokens: run.tokens, ...result },
  });
  if (outcome.ok) {
    const text = typeof outcome.output === 'string' ? outcome.output : JSON.stringify(outcome.output ?? null);
    emits.push({
      type: 'task.done',
      taskId: run.runId,
      output: {
        text,
        output: outcome.output,
        model: 'workflow',
        promptTokens: 0,
        completionTokens: run.tokens,
        totalDurationMs: null,
        loadDurationMs: null,
        promptEvalDurationMs: null,
        evalDurationMs: null,
      },
    });
  } else {
    emits.push({ type: 'task.error', taskId: run.runId, error: outcome.error });
  }
}

// ---------------------------------------------------------------- helpers

function effect(run: WorkflowRun, emits: MachineEmitted[], frame: Frame, kind: 'step' | 'retry' | 'timeout', capability: string, input: unknown): string {
  const effectId = `${run.runId}:${run.nextEffect++}`;
  run.waiting.set(effectId, { frame: frame.key, kind });
  emits.push({ type: 'effect', effectId, taskId: run.runId, capability, input });
  return effectId;
}

function childScope(scope: Scope): Scope {
  // Children see what their parent saw; what they add stays theirs (a map item's steps are its own).
  return { ...scope, steps: Object.create(scope.steps) as Record<string, { output: unknown }> };
}

/** Evaluates a loop's `until` against the run data (`output` is the body's last output). */
export function holds(condition: Condition, data: object): boolean {
  const path = parsePathLoose(condition.path);
  const value = lookup(data as Record<string, unknown>, path);
  if (condition.exists !== undefined) return (value !== undefined && value !== null) === condition.exists;
  if (condition.equals !== undefined) return JSON.stringify(value) === JSON.stringify(condition.equals);
  if (condition.not_equals !== undefined) return JSON.stringify(value) !== JSON.stringify(condition.not_equals);
  if (condition.contains !== undefined) return typeof value === 'string' && value.includes(condition.contains);
  if (condition.gte !== undefined) return typeof value === 'number' && value >= condition.gte;
  if (condition.lte !== undefined) return typeof value === 'number' && value <= condition.lte;
  return Boolean(value);
}

/** A condition path may start at `output` as well as at the template roots. */
function parsePathLoose(text: string): (string | number)[] {
  if (text === 'output' || text.startsWith('output.') || text.startsWith('output[')) {
    const rest = parsePath(`input${text.slice('output'.length)}`);
    return ['output', ...(rest ?? []).slice(1)];
  }
  return parsePath(text) ?? [text];
}
