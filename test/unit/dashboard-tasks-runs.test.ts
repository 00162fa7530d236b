// The pure logic of the dashboard's tasks-and-runs view: a task's timeline from its record and
// the stream's events, and a run's steps as a laid-out tree moved by run.step events.
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../client/index.js';
import { TASK_STATUSES, type StepRecord, type TaskRecord } from '../../runtime/protocol/index.js';
import { applyStepEvents, layoutSteps, MAX_STEP_NODES, summarise, toStepTree } from '../../dashboard/src/step-layout.js';
import { applyTaskEvents, buildTimeline, currentStatus, EMPTY_LIVE, MAX_TOOL_EVENTS } from '../../dashboard/src/task-timeline.js';
import { TASK_STATUSES as PAGE_STATUSES } from '../../dashboard/src/task-statuses.js';

let seq = 0;
const event = (type: string, taskId: string, payload: Record<string, unknown> = {}, time = '2026-01-01T00:00:01.000Z'): StreamEvent => ({
  type,
  time,
  task_id: taskId,
  payload,
  seq: ++seq,
});

const record = (over: Partial<TaskRecord> = {}): TaskRecord => ({
  task_id: 't1',
  agent: 'a',
  agent_id: 'a-1',
  prompt: 'hi',
  parameters: {},
  status: 'running',
  result: null,
  error: null,
  error_code: null,
  model: null,
  provider: null,
  tokens_used: null,
  created_at: '2026-01-01T00:00:00.000Z',
  started_at: null,
  completed_at: null,
  duration_ms: null,
  timings: null,
  thread_id: null,
  details: {},
  ...over,
});

describe('task timeline', () => {
  it('joins the record with live events: started, tokens so far, tool calls with their times', () => {
    const live = applyTaskEvents(EMPTY_LIVE, 't1', [
      event('task.started', 't1', {}, '2026-01-01T00:00:00.500Z'),
      event('task.token', 't1'),
      event('task.token', 't1'),
      event('task.token', 'other'),
      event('task.tool_call', 't1', { name: 'clock', arguments: { tz: 'UTC' } }, '2026-01-01T00:00:02.000Z'),
      event('task.tool_result', 't1', { name: 'clock', ok: true, content: '12:00' }, '2026-01-01T00:00:03.000Z'),
    ]);
    expect(live.tokens).toBe(2);
    const entries = buildTimeline(record(), live);
    expect(entries.map((e) => e.kind)).toEqual(['queued', 'started', 'tool_call', 'tool_result', 'tokens']);
    expect(entries[1]!.time).toBe('2026-01-01T00:00:00.500Z');
    expect(entries[2]).toMatchObject({ label: 'Tool call clock', detail: '{"tz":"UTC"}', time: '2026-01-01T00:00:02.000Z' });
    expect(entries[4]!.label).toBe('2 tokens streamed so far');
    expect(currentStatus(record({ status: 'queued' }), live)).toBe('running');
  });

  it('ends with the record\'s outcome, its tokens and tool steps when the page saw no events', () => {
    const done = record({
      status: 'completed',
      started_at: '2026-01-01T00:00:00.100Z',
      completed_at: '2026-01-01T00:00:04.000Z',
      tokens_used: 93,
      details: { steps: [{ turn: 1, name: 'search', arguments: { q: 'x' }, ok: false, result: 'boom' }] },
    });
    const entries = buildTimeline(done, EMPTY_LIVE);
    expect(entries.map((e) => e.kind)).toEqual(['queued', 'started', 'tool_call', 'tool_result', 'tokens', 'completed']);
    expect(entries[3]!.label).toBe('Tool result search (error)');
    expect(entries[4]!.label).toBe('93 tokens used');
    expect(entries.at(-1)!.time).toBe('2026-01-01T00:00:04.000Z');
  });

  it('shows a cancel from the stream before the record says so, with its reason', () => {
    const live = applyTaskEvents(EMPTY_LIVE, 't1', [event('task.cancelled', 't1', { error: 'cancelled by a client' })]);
    const entries = buildTimeline(record(), live);
    expect(entries.at(-1)).toMatchObject({ kind: 'cancelled', label: 'Cancelled', detail: 'cancelled by a client' });
    expect(currentStatus(record(), live)).toBe('cancelled');
  });

  it('keeps a bounded number of tool events however long the loop', () => {
    const many = Array.from({ length: 500 }, () => event('task.tool_call', 't1', { name: 'n' }));
    expect(applyTaskEvents(EMPTY_LIVE, 't1', many).tools).toHaveLength(MAX_TOOL_EVENTS);
  });

  it('offers the statuses the API knows', () => {
    expect([...PAGE_STATUSES]).toEqual([...TASK_STATUSES]);
  });
});

const step = (path: string[], status: StepRecord['status'], over: Partial<StepRecord> = {}): StepRecord => ({
  path,
  node_id: path.at(-1)!,
  type: 'agent',
  status,
  attempts: 1,
  error: null,
  error_code: null,
  task_id: null,
  agent: 'w',
  tokens: 0,
  started_at: null,
  finished_at: null,
  ...over,
});

describe('run step graph', () => {
  it('builds the tree of step paths, with structure nodes summing up their children', () => {
    const { root } = toStepTree('wf', [step(['main', 'draft'], 'completed'), step(['main', 'review'], 'running')]);
    expect(root.children!.map((c) => c.key)).toEqual(['main']);
    const main = root.children![0]!;
    expect(main.step).toBeNull();
    expect(main.status).toBe('running');
    expect(main.children!.map((c) => [c.key, c.status])).toEqual([
      ['main/draft', 'completed'],
      ['main/review', 'running'],
    ]);
    expect(summarise(['completed', 'skipped'])).toBe('completed');
    expect(summarise(['completed', 'failed'])).toBe('failed');
    expect(summarise(['completed', 'pending'])).toBe('running');
  });

  it('moves statuses with run.step events of its own run, adding steps the snapshot lacked', () => {
    const steps = [step(['main', 'draft'], 'running')];
    const next = applyStepEvents(steps, 'r1', [
      event('run.step', 'r1', { status: 'completed', path: ['main', 'draft'], attempt: 1 }),
      event('run.step', 'r1', { status: 'running', path: ['main', 'review'], agent: 'c', step_task_id: 's2', attempt: 1 }),
      event('run.step', 'nested', { status: 'failed', path: ['main', 'draft'], attempt: 1 }),
      event('task.token', 'r1'),
    ]);
    expect(next.map((s) => [s.path.join('/'), s.status, s.task_id])).toEqual([
      ['main/draft', 'completed', null],
      ['main/review', 'running', 's2'],
    ]);
    expect(steps[0]!.status).toBe('running');
    const failed = applyStepEvents(next, 'r1', [event('run.step', 'r1', { status: 'failed', path: ['main', 'review'], attempt: 2, error: 'x', code: 'timeout' })]);
    expect(failed[1]).toMatchObject({ status: 'failed', attempts: 2, error: 'x', error_code: 'timeout' });
  });

  it('lays out left to right within its size, and draws a bounded number of nodes', () => {
    const laid = layoutSteps('wf', [step(['main', 'a'], 'completed'), step(['main', 'b'], 'completed')]);
    expect(laid.nodes).toHaveLength(4);
    for (const n of laid.nodes) {
      expect(n.x).toBeGreaterThan(0);
      expect(n.x).toBeLessThan(laid.height);
      expect(n.y).toBeLessThan(laid.width);
    }
    const many = Array.from({ length: MAX_STEP_NODES + 50 }, (_, i) => step(['each', `map[${i}]`], 'completed'));
    const big = layoutSteps('wf', many);
    expect(big.nodes.length).toBeLessThanOrEqual(MAX_STEP_NODES + 1);
    expect(big.hidden).toBe(51);
  });
});
