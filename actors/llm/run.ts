// One task of an `llm` agent, as a pure state machine: think → call tools → think, up to max_turns.
//
//   start ── thread_id? ── thread.read ──┐
//                                        ▼
//                       ┌──────────── llm.chat ◄──────────────┐
//                       │ tool calls          │ an answer      │
//                       ▼                     ▼                │
//                 tool.call × n         output_schema?         │
//                 (in parallel)          valid → done          │
//                       │                invalid → one repair ─┘
//                       └── all answered ──► llm.chat
//
// Every function here takes the run and an answer and returns the next run (null once the task
// ended) and what to emit. No I/O, no clock: the machine (machine.ts) holds the runs and the host
// performs the effects. Expected failures end the task (task.error); anything else is a defect the
// machine turns into a crash.
import { AuroraError } from '../../runtime/errors.js';
import type { AgentDefinition, NewThreadMessage, TaskOutcome, TaskRequest, ToolCall } from '../../runtime/protocol/index.js';
import type { MachineEmitted } from '../kind.js';
import { estimateTokens, fitHistory, TOKENS_PER_TOOL, type ConversationMessage } from './context.js';
import {
  LLM_CHAT,
  THREAD_READ,
  TOOL_CALL,
  TOOL_RELEASE,
  type ChatInput,
  type ChatOutput,
  type ThreadReadOutput,
  type ToolCallInput,
  type ToolCallOutput,
} from './effects.js';
import { checkOutput } from './output.js';
import { effectiveSettings, type EffectiveSettings } from './settings.js';

/** Longest tool result shown in a task.tool_result event and the task's steps (the model gets it whole). */
const SHOWN_RESULT_CHARS = 2_000;

type Waiting = { kind: 'history' } | { kind: 'chat'; repair: boolean } | { kind: 'tool'; index: number };

export interface ToolStep {
  turn: number;
  name: string;
  arguments: Record<string, unknown>;
  ok: boolean | null;
  result: string | null;
  repeated: boolean;
}

export interface Run {
  readonly task: TaskRequest;
  readonly settings: EffectiveSettings;
  /** The thread's history as loaded (oldest first), before fitting. */
  history: ConversationMessage[];
  /** This task's messages: the user prompt, then assistant tool-call turns and tool results. */
  own: ConversationMessage[];
  /** Model calls made (the repair round not counted). */
  turns: number;
  /** Effects awaited, by id. */
  waiting: Record<string, Waiting>;
  nextEffect: number;
  /** Tool calls of the current turn and their results, in call order. */
  calls: ToolCall[];
  results: (string | null)[];
  /** Results of earlier calls by name+arguments: a repeated call is answered from here, not run again. */
  seen: Record<string, string>;
  steps: ToolStep[];
  usage: { prompt: number; completion: number };
  /** The last chat call's answer (its timings and model become the task's). */
  last: ChatOutput | null;
  /** The invalid structured answer being repaired, if any. */
  invalid: { text: string; errors: string } | null;
  context: { history_messages: number; omitted_messages: number; estimated_prompt_tokens: number } | null;
}

export interface Step {
  run: Run | null;
  emits: MachineEmitted[];
}

// ---------------------------------------------------------------- start

export function startRun(definition: AgentDefinition, task: TaskRequest): Step {
  const settings = effectiveSettings(definition, task);
  const run: Run = {
    task,
    settings,
    history: [],
    own: [{ role: 'user', content: task.prompt }],
    turns: 0,
    waiting: {},
    nextEffect: 1,
    calls: [],
    results: [],
    seen: {},
    steps: [],
    usage: { prompt: 0, completion: 0 },
    last: null,
    invalid: null,
    context: null,
  };
  const emits: MachineEmitted[] = [details(run, false)];
  if (task.thread_id !== undefined) {
    if (settings.max_messages === 0) return chat(run, emits);
    return { run, emits: [...emits, effect(run, { kind: 'history' }, THREAD_READ, { thread_id: task.thread_id, limit: settings.max_messages })] };
  }
  return chat(run, emits);
}

// ---------------------------------------------------------------- answers

/** The host performed an effect of this run. */
export function effectDone(run: Run, effectId: string, output: unknown): Step {
  const waiting = run.waiting[effectId];
  if (waiting === undefined) return { run, emits: [] };
  delete run.waiting[effectId];
  switch (waiting.kind) {
    case 'history':
      run.history = (output as ThreadReadOutput).messages;
      return chat(run, []);
    case 'chat':
      return onAnswer(run, output as ChatOutput, waiting.repair);
    case 'tool':
      return onToolResult(run, waiting.index, true, (output as ToolCallOutput).content);
  }
}

/** An effect failed. Expected failures (AuroraError) of a tool go back to the model; of anything else, end the task. */
export function effectFailed(run: Run, effectId: string, error: unknown): Step | { defect: unknown } {
  const waiting = run.waiting[effectId];
  if (waiting === undefined) return { run, emits: [] };
  if (!(error instanceof AuroraError)) return { defect: error };
  delete run.waiting[effectId];
  if (waiting.kind === 'tool') return onToolResult(run, waiting.index, false, `Error: ${error.message}`);
  return fail(run, error);
}

/** The task was dropped (cancelled or timed out): the host aborts what is in flight. */
export function cancelRun(run: Run): MachineEmitted[] {
  return [...releaseTools(run), { type: 'task.cancelled', taskId: run.task.task_id }];
}

// ---------------------------------------------------------------- the loop

function onAnswer(run: Run, answer: ChatOutput, repair: boolean): Step {
  run.last = answer;
  run.usage.prompt += answer.promptTokens;
  run.usage.completion += answer.completionTokens;
  if (!repair) run.turns += 1;
  const { settings } = run;
  if (answer.toolCalls.length > 0 && settings.tools.length > 0 && !repair) {
    if (run.turns >= settings.max_turns) {
      return fail(
        run,
        new AuroraError(
          'max_turns_exceeded',
          `The model still asked for tools after ${run.turns} turns (max_turns ${settings.max_turns}); the task was stopped`,
        ),
      );
    }
    return callTools(run, answer);
  }
  if (settings.output_schema !== null) {
    const checked = checkOutput(answer.text, settings.output_schema);
    if (!checked.ok) {
      if (repair) {
        return fail(run, new AuroraError('output_invalid', `The answer does not match output_schema: ${checked.errors}`));
      }
      run.invalid = { text: answer.text, errors: checked.errors };
      return chat(run, [], true);
    }
    return finish(run, answer, checked.value);
  }
  return finish(run, answer, undefined);
}

function callTools(run: Run, answer: ChatOutput): Step {
  const turn = run.turns;
  run.own.push({ role: 'assistant', content: answer.text, tool_calls: answer.toolCalls, tokens: answer.completionTokens });
  run.calls = answer.toolCalls;
  run.results = answer.toolCalls.map(() => null);
  const emits: MachineEmitted[] = [];
  const taskId = run.task.task_id;
  for (const [index, call] of answer.toolCalls.entries()) {
    const key = callKey(call);
    const earlier = run.seen[key];
    const step: ToolStep = { turn, name: call.name, arguments: call.arguments, ok: null, result: null, repeated: earlier !== undefined };
    run.steps.push(step);
    emits.push({
      type: 'task.event',
      taskId,
      event: 'task.tool_call',
      payload: { turn, index, name: call.name, arguments: call.arguments, repeated: step.repeated },
    });
    let immediate: string | null = null;
    if (!run.settings.tools.includes(call.name)) {
      immediate = `Error: there is no tool named ${call.name}; the tools are ${run.settings.tools.join(', ')}`;
      step.ok = false;
    } else if (earlier !== undefined) {
      // The guard against loops: the same call is answered from memory and the model is told so.
      immediate = `You already called ${call.name} with these arguments in this task; the result was: ${earlier}`;
      step.ok = true;
    }
    if (immediate !== null) {
      run.results[index] = immediate;
      step.result = immediate.slice(0, SHOWN_RESULT_CHARS);
      emits.push(resultEvent(run, index, step.ok === true, immediate));
      continue;
    }
    const input: ToolCallInput = { name: call.name, arguments: call.arguments, timeout_ms: run.settings.tool_timeout_ms };
    emits.push(effect(run, { kind: 'tool', index }, TOOL_CALL, input));
  }
  emits.push(details(run, true));
  if (run.results.every((r) => r !== null)) return continueAfterTools(run, emits);
  return { run, emits };
}

function onToolResult(run: Run, index: number, ok: boolean, content: string): Step {
  run.results[index] = content;
  const step = run.steps[run.steps.length - run.calls.length + index]!;
  step.ok = ok;
  step.result = content.slice(0, SHOWN_RESULT_CHARS);
  if (ok) run.seen[callKey(run.calls[index]!)] = content;
  const emits: MachineEmitted[] = [resultEvent(run, index, ok, content), details(run, true)];
  if (run.results.some((r) => r === null)) return { run, emits };
  return continueAfterTools(run, emits);
}

function continueAfterTools(run: Run, emits: MachineEmitted[]): Step {
  for (const [index, call] of run.calls.entries()) {
    run.own.push({ role: 'tool', content: run.results[index]!, tool_name: call.name });
  }
  run.calls = [];
  run.results = [];
  return chat(run, emits);
}

/** Asks the model: the system prompt, the history that fits, this task's messages (and a repair request). */
function chat(run: Run, emits: MachineEmitted[], repair = false): Step {
  const { settings } = run;
  const own: ConversationMessage[] = [...run.own];
  if (repair && run.invalid !== null) {
    own.push({ role: 'assistant', content: run.invalid.text });
    own.push({
      role: 'user',
      content: `Your answer did not match the required JSON Schema: ${run.invalid.errors}. Answer again with only JSON that matches it.`,
    });
  }
  const system: ConversationMessage[] = settings.system === null ? [] : [{ role: 'system', content: settings.system }];
  const fixed =
    [...system, ...own].reduce((sum, m) => sum + estimateTokens(m), 0) + settings.tools.length * TOKENS_PER_TOOL;
  const budget = settings.options.num_ctx - settings.reserve_tokens;
  const fitted = fitHistory(run.history, fixed, budget);
  if (fitted === undefined) {
    return fail(
      run,
      new AuroraError(
        'context_overflow',
        `The prompt needs about ${fixed} tokens but num_ctx ${settings.options.num_ctx} leaves ${budget} after reserving ` +
          `${settings.reserve_tokens} for the answer; raise num_ctx or shorten the prompt`,
      ),
      emits,
    );
  }
  run.context = {
    history_messages: fitted.kept.length,
    omitted_messages: fitted.omitted,
    estimated_prompt_tokens: fitted.estimate,
  };
  const input: ChatInput = {
    provider: settings.provider,
    model: settings.model,
    messages: [...system, ...fitted.kept, ...own].map(({ tokens: _tokens, ...m }) => m),
    options: settings.options,
    tools: settings.tools,
    ...(settings.output_schema !== null && { format: settings.output_schema }),
    ...(settings.keep_alive !== null && { keep_alive: settings.keep_alive }),
  };
  return { run, emits: [...emits, effect(run, { kind: 'chat', repair }, LLM_CHAT, input)] };
}

// ---------------------------------------------------------------- endings

function finish(run: Run, answer: ChatOutput, output: unknown): Step {
  const thread: NewThreadMessage[] = [];
  for (const m of run.own) {
    if (m.role === 'system') continue;
    thread.push({
      role: m.role,
      content: m.content,
      ...(m.tool_calls !== undefined && { tool_calls: m.tool_calls }),
      ...(m.tool_name !== undefined && { tool_name: m.tool_name }),
      tokens: m.tokens ?? null,
    });
  }
  thread.push({ role: 'assistant', content: answer.text, tokens: answer.completionTokens });
  const outcome: TaskOutcome = {
    text: answer.text,
    model: answer.model,
    promptTokens: run.usage.prompt,
    completionTokens: run.usage.completion,
    totalDurationMs: answer.totalDurationMs,
    loadDurationMs: answer.loadDurationMs,
    promptEvalDurationMs: answer.promptEvalDurationMs,
    evalDurationMs: answer.evalDurationMs,
    ...(output !== undefined && { output }),
    ...(run.task.thread_id !== undefined && { messages: thread }),
  };
  return { run: null, emits: [...releaseTools(run), details(run, false), { type: 'task.done', taskId: run.task.task_id, output: outcome }] };
}

function fail(run: Run, error: AuroraError, emits: MachineEmitted[] = []): Step {
  return { run: null, emits: [...emits, ...releaseTools(run), details(run, false), { type: 'task.error', taskId: run.task.task_id, error }] };
}

/** A task that called tools lets them drop what they hold for it; its answer is not awaited. */
function releaseTools(run: Run): MachineEmitted[] {
  if (run.steps.length === 0) return [];
  return [{ type: 'effect', effectId: `${run.task.task_id}:release`, taskId: run.task.task_id, capability: TOOL_RELEASE, input: {} }];
}

// ---------------------------------------------------------------- helpers

function effect(run: Run, waiting: Waiting, capability: string, input: unknown): MachineEmitted {
  const effectId = `${run.task.task_id}:${run.nextEffect++}`;
  run.waiting[effectId] = waiting;
  return { type: 'effect', effectId, taskId: run.task.task_id, capability, input };
}

function resultEvent(run: Run, index: number, ok: boolean, content: string): MachineEmitted {
  return {
    type: 'task.event',
    taskId: run.task.task_id,
    event: 'task.tool_result',
    payload: { turn: run.turns, index, name: run.calls[index]!.name, ok, content: content.slice(0, SHOWN_RESULT_CHARS) },
  };
}

/** What the task records about itself: the settings it ran with, its context, its tool steps. */
function details(run: Run, flush: boolean): MachineEmitted {
  const { settings } = run;
  return {
    type: 'task.details',
    taskId: run.task.task_id,
    flush,
    details: {
      settings: {
        model: settings.model,
        provider: settings.provider,
        system: settings.system,
        options: settings.options,
        keep_alive: settings.keep_alive,
        tools: settings.tools,
        output_schema: settings.output_schema,
        max_turns: settings.max_turns,
      },
      turns: run.turns,
      ...(run.context !== null && { context: run.context }),
      ...(run.steps.length > 0 && { steps: run.steps }),
    },
  };
}

function callKey(call: ToolCall): string {
  return `${call.name}\u0000${stableJson(call.arguments)}`;
}

/** JSON with object keys sorted, so equal arguments give equal keys whatever their order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
