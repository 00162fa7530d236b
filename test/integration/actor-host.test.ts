// The actor host between the mailbox, the XState actor, SQLite and the bus: what it publishes
// about an agent's status, and how it performs the calls its machine asks for. The LLM call is
// the host's injected `perform`, answered by the test.
import { afterEach, describe, expect, it } from 'vitest';
import type { AuroraEvent, TaskResult } from '../../runtime/protocol/index.js';
import { llmKind } from '../../actors/llm/kind.js';
import { LLM_CHAT, type ChatInput } from '../../actors/llm/effects.js';
import type { Bus } from '../../runtime/bus/bus.js';
import { createMemoryBus } from '../../runtime/bus/memory.js';
import { systemClock } from '../../runtime/clock.js';
import { createEventPublisher } from '../../runtime/events.js';
import { silentLogger } from '../../runtime/logger.js';
import { createMetrics } from '../../runtime/metrics.js';
import type { LlmChatResult } from '../../runtime/providers/llm.js';
import { openStore, type Store } from '../../runtime/store/index.js';
import { createSubjects, type Subjects } from '../../runtime/subjects.js';
import { AgentHost } from '../../supervisors/actor-host.js';

const definition = { name: 'quick', agent_type: 'llm', model_name: 'llama2', provider: 'ollama', description: '', config: {} };
const answer = (text: string): LlmChatResult => ({
  text,
  toolCalls: [],
  model: 'llama2',
  promptTokens: 1,
  completionTokens: 1,
  doneReason: 'stop',
  totalDurationMs: null,
  loadDurationMs: null,
  promptEvalDurationMs: null,
  evalDurationMs: null,
});
const turn = () => new Promise((r) => setImmediate(r));
/** A few loop turns: the status waits for the end of one, its delivery on the bus for the next. */
const turns = async () => {
  for (let i = 0; i < 3; i++) await turn();
};

let store: Store | undefined;
afterEach(() => {
  store?.close();
  store = undefined;
});

/** Performs one LLM call of the llm kind; aborting `signal` abandons it. */
type LlmCall = (call: { task: { prompt: string } }, signal: AbortSignal) => Promise<LlmChatResult>;

/** The prompt of a chat call: its last user message. */
const promptOf = (input: unknown): string => (input as ChatInput).messages.filter((m) => m.role === 'user').at(-1)!.content;

/** A started host for `definition` on a fresh in-memory store, its calls answered by `perform`. */
function startHost(perform: LlmCall, events: { bus: Bus; subjects: Subjects }): AgentHost {
  store = openStore({ path: ':memory:' });
  const { agent_id } = store.agents.insert(definition, new Date().toISOString());
  const host = new AgentHost(definition, {
    agentId: agent_id,
    kind: llmKind,
    capabilities: { [LLM_CHAT]: (input, ctx) => perform({ task: { prompt: promptOf(input) } }, ctx.signal) },
    defaultSlots: 1,
    store,
    events: createEventPublisher(events.bus, events.subjects, systemClock),
    metrics: createMetrics({ defaultMetrics: false }),
    clock: systemClock,
    logger: silentLogger,
    mailboxSize: 8,
    taskTimeoutMs: 10_000,
  });
  // AgentHost spawns its actor synchronously (ChildSpec's type allows a promise); were it ever to
  // reject, the run would still fail on the unhandled rejection.
  void host.childSpec().start();
  return host;
}

describe('agent host status announcements', () => {
  function harness() {
    const bus = createMemoryBus();
    const subjects = createSubjects('host_test');
    const statuses: string[] = [];
    bus.subscribe(subjects.eventsAll(), (m) => {
      const e = m.data as AuroraEvent;
      if (e.type === 'agent.status') statuses.push(String(e.payload.status));
    });
    const answers: ((r: LlmChatResult) => void)[] = [];
    let instant: string | null = null;
    const host = startHost(
      (call) => (instant !== null ? Promise.resolve(answer(call.task.prompt)) : new Promise((resolve) => answers.push(resolve))),
      { bus, subjects },
    );
    const submit = (prompt: string) =>
      new Promise<TaskResult>((resolve, reject) =>
        host.submit({ task_id: crypto.randomUUID(), agent: 'quick', prompt, parameters: {} }, (r) => (r.ok ? resolve(r.data) : reject(r.error))),
      );
    return { statuses, answers, submit, instantly: () => (instant = 'yes') };
  }

  it('announces running and idle around a task that spans turns', async () => {
    const h = harness();
    await turns();
    const result = h.submit('slow');
    await turns();
    expect(h.statuses).toEqual(['idle', 'running']);
    h.answers[0]!(answer('slow'));
    expect((await result).result).toBe('slow');
    await turns();
    expect(h.statuses).toEqual(['idle', 'running', 'idle']);
  });

  it('announces nothing for a task that starts and ends within one turn: the agent never visibly left idle', async () => {
    const h = harness();
    h.instantly();
    await turns();
    expect((await h.submit('fast')).result).toBe('fast');
    await turns();
    expect(h.statuses).toEqual(['idle']);
  });
});

describe('agent host calls', () => {
  function harness() {
    const answers: ((r: LlmChatResult) => void)[] = [];
    const signals: AbortSignal[] = [];
    const host = startHost(
      (_call, signal) => {
        signals.push(signal);
        return new Promise((resolve) => answers.push(resolve));
      },
      { bus: createMemoryBus(), subjects: createSubjects('host_calls') },
    );
    const submit = (prompt: string, taskId: string) =>
      new Promise<{ ok: boolean; text?: string; code?: string }>((resolve) =>
        host.submit({ task_id: taskId, agent: 'quick', prompt, parameters: {} }, (r) =>
          resolve(r.ok ? { ok: true, text: r.data.result } : { ok: false, code: r.error.code }),
        ),
      );
    return { host, answers, signals, submit };
  }

  it('aborts the call of a cancelled task and ignores its late answer; the next task gets its own', async () => {
    const h = harness();
    const first = h.submit('one', 'task-1');
    expect(h.signals).toHaveLength(1);
    expect(h.host.cancel('task-1')).toBe('cancelled');
    expect(h.signals[0]!.aborted).toBe(true);
    expect(await first).toEqual({ ok: false, code: 'task_cancelled' });
    const second = h.submit('two', 'task-2');
    h.answers[0]!(answer('late answer of task-1'));
    await turns();
    expect(h.host.status).toBe('running');
    h.answers[1]!(answer('two'));
    expect(await second).toEqual({ ok: true, text: 'two' });
    expect(h.signals[1]!.aborted).toBe(false);
  });

  it('aborts the call in flight when the actor crashes, and when the supervisor stops it', async () => {
    const h = harness();
    const crashed = h.submit('doomed', 'task-1');
    h.host.injectFault();
    expect(h.signals[0]!.aborted).toBe(true);
    expect(await crashed).toEqual({ ok: false, code: 'agent_crashed' });
    // The supervisor would start a fresh actor; here the test does.
    const next = await h.host.childSpec().start();
    void h.submit('stopped mid-call', 'task-2');
    expect(h.signals[1]!.aborted).toBe(false);
    await next.stop();
    expect(h.signals[1]!.aborted).toBe(true);
  });
});
