// A scripted browser task, as pure steps: which action runs next, what each finished action adds to
// the task's result and events, and how the task ends. No I/O: the machine emits what this returns.
import { AuroraError } from '../../runtime/errors.js';
import type { BrowserAction, TaskOutcome, TaskRequest } from '../../runtime/protocol/index.js';
import type { MachineEmitted } from '../kind.js';
import { BROWSER_ACT, BROWSER_RELEASE, type ActInput, type ActOutput } from './effects.js';

export interface Script {
  readonly task: TaskRequest;
  readonly actions: readonly BrowserAction[];
  /** The action running now. */
  readonly index: number;
  readonly effectId: string;
  readonly results: readonly Record<string, unknown>[];
}

export interface ScriptStep {
  /** null once the task has ended. */
  readonly script: Script | null;
  readonly emits: MachineEmitted[];
}

/** What each action needs besides its name; checked before anything runs. */
const NEEDS: Partial<Record<BrowserAction['action'], (a: BrowserAction) => string | null>> = {
  navigate: (a) => (a.url === undefined ? 'url' : null),
  click: (a) => (a.ref === undefined && a.selector === undefined ? 'ref or selector' : null),
  type: (a) => (a.ref === undefined && a.selector === undefined ? 'ref or selector' : a.text === undefined ? 'text' : null),
  select: (a) => (a.ref === undefined && a.selector === undefined ? 'ref or selector' : a.values === undefined ? 'values' : null),
  press: (a) => (a.key === undefined ? 'key' : null),
  wait_for: (a) => (a.text === undefined && a.selector === undefined && a.ref === undefined && a.ms === undefined ? 'text, selector, ref or ms' : null),
  extract: (a) => (a.selector === undefined ? 'selector' : null),
  evaluate: (a) => (a.script === undefined ? 'script' : null),
};

export function startScript(task: TaskRequest): ScriptStep {
  const actions = task.parameters.actions;
  if (actions === undefined || actions.length === 0) {
    return failed(task, new AuroraError('invalid_request', 'a browser task needs parameters.actions: the list of actions to run (navigate, snapshot, click, …)'));
  }
  for (const [i, action] of actions.entries()) {
    const missing = NEEDS[action.action]?.(action) ?? null;
    if (missing !== null) {
      return failed(task, new AuroraError('invalid_request', `parameters.actions[${i}] (${action.action}) needs ${missing}`));
    }
  }
  return next({ task, actions, index: -1, effectId: '', results: [] });
}

export function actionDone(script: Script, output: ActOutput): ScriptStep {
  const action = script.actions[script.index]!;
  const { task, index } = script;
  const entry = { index, action: action.action, ...output.result };
  const emits: MachineEmitted[] = [
    { type: 'task.event', taskId: task.task_id, event: 'browser.action', payload: { index, action: action.action, ok: true, url: output.url } },
  ];
  if (output.navigated) emits.push({ type: 'task.event', taskId: task.task_id, event: 'browser.navigated', payload: { index, ...output.navigated } });
  if (output.artifact) emits.push({ type: 'task.event', taskId: task.task_id, event: 'browser.screenshot', payload: { index, ...output.artifact } });
  const step = next({ ...script, results: [...script.results, entry] });
  return { script: step.script, emits: [...emits, ...step.emits] };
}

/** The action failed with an expected error: the task stops, naming the action and why. */
export function actionFailed(script: Script, error: AuroraError): ScriptStep {
  const action = script.actions[script.index]!;
  const { task, index } = script;
  const wrapped = new AuroraError(error.code, `actions[${index}] (${action.action}) failed: ${error.message}`, { cause: error });
  return {
    script: null,
    emits: [
      { type: 'task.event', taskId: task.task_id, event: 'browser.action', payload: { index, action: action.action, ok: false, code: error.code, detail: error.message } },
      release(task),
      details(task, script.results, { index, action: action.action, code: error.code, detail: error.message }),
      { type: 'task.error', taskId: task.task_id, error: wrapped },
    ],
  };
}

export function cancelScript(script: Script): MachineEmitted[] {
  return [{ type: 'effect.cancel', effectId: script.effectId }, release(script.task), { type: 'task.cancelled', taskId: script.task.task_id }];
}

function next(script: Script): ScriptStep {
  const index = script.index + 1;
  const { task } = script;
  if (index >= script.actions.length) {
    const result = { actions: script.results };
    const outcome: TaskOutcome = {
      text: JSON.stringify(result),
      output: result,
      model: 'chromium',
      promptTokens: 0,
      completionTokens: 0,
      totalDurationMs: null,
      loadDurationMs: null,
      promptEvalDurationMs: null,
      evalDurationMs: null,
    };
    return {
      script: null,
      emits: [release(task), details(task, script.results, null), { type: 'task.done', taskId: task.task_id, output: outcome }],
    };
  }
  const effectId = `${task.task_id}:${index}`;
  const input: ActInput = { index, action: script.actions[index]! };
  return {
    script: { ...script, index, effectId },
    emits: [{ type: 'effect', effectId, taskId: task.task_id, capability: BROWSER_ACT, input }],
  };
}

function release(task: TaskRequest): MachineEmitted {
  return { type: 'effect', effectId: `${task.task_id}:release`, taskId: task.task_id, capability: BROWSER_RELEASE, input: {} };
}

function details(task: TaskRequest, results: readonly Record<string, unknown>[], failure: Record<string, unknown> | null): MachineEmitted {
  return { type: 'task.details', taskId: task.task_id, details: { actions: results, ...(failure && { failed: failure }) }, flush: false };
}

function failed(task: TaskRequest, error: AuroraError): ScriptStep {
  return { script: null, emits: [{ type: 'task.error', taskId: task.task_id, error }] };
}
