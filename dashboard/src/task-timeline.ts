// A task's timeline: what GET /api/v1/tasks/{id} recorded (accepted, started, tool steps, end),
// joined with what the stream said while the page watched (times of tool calls, tokens as they
// came). The record is the truth once the task has ended; the events fill in while it runs.
import type { StreamEvent } from '../../client/index.js';
import type { TaskRecord } from '../../runtime/protocol/index.js';

/** Tool events kept per task: a tool loop of many turns shows its newest, not all. */
export const MAX_TOOL_EVENTS = 100;

export type TimelineKind = 'queued' | 'started' | 'tokens' | 'tool_call' | 'tool_result' | 'completed' | 'failed' | 'cancelled';

export interface TimelineEntry {
  key: string;
  kind: TimelineKind;
  /** ISO time; null when only the record knows it happened (tool steps read back carry no time). */
  time: string | null;
  label: string;
  detail?: string;
}

/** What the stream has told about one task since the page subscribed. */
export interface LiveTask {
  status: string | null;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
  tokens: number;
  firstTokenAt: string | null;
  tools: TimelineEntry[];
}

export const EMPTY_LIVE: LiveTask = { status: null, startedAt: null, endedAt: null, error: null, tokens: 0, firstTokenAt: null, tools: [] };

const ENDS = new Set(['completed', 'failed', 'cancelled']);

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');

/** `live` advanced by the task's events (events of other tasks are ignored). */
export function applyTaskEvents(live: LiveTask, taskId: string, events: readonly StreamEvent[]): LiveTask {
  let next = live;
  for (const e of events) {
    if (e.task_id !== taskId) continue;
    const kind = e.type.slice('task.'.length);
    if (e.type === 'task.token') {
      next = { ...next, tokens: next.tokens + 1, firstTokenAt: next.firstTokenAt ?? e.time };
    } else if (e.type === 'task.started') {
      next = { ...next, status: 'running', startedAt: e.time };
    } else if (e.type === 'task.tool_call' || e.type === 'task.tool_result') {
      const p = e.payload;
      const entry: TimelineEntry =
        e.type === 'task.tool_call'
          ? { key: `live-${e.seq}`, kind: 'tool_call', time: e.time, label: `Tool call ${text(p.name)}`, detail: text(p.arguments) }
          : {
              key: `live-${e.seq}`,
              kind: 'tool_result',
              time: e.time,
              label: `Tool result ${text(p.name)}${p.ok === false ? ' (error)' : ''}`,
              detail: text(p.content),
            };
      const tools = [...next.tools, entry];
      next = { ...next, tools: tools.length > MAX_TOOL_EVENTS ? tools.slice(tools.length - MAX_TOOL_EVENTS) : tools };
    } else if (e.type.startsWith('task.') && ENDS.has(kind)) {
      const error = typeof e.payload.error === 'string' ? e.payload.error : null;
      next = { ...next, status: kind, endedAt: e.time, error };
    }
  }
  return next;
}

interface ToolStep {
  name?: unknown;
  arguments?: unknown;
  ok?: unknown;
  result?: unknown;
}

function recordedTools(record: TaskRecord): TimelineEntry[] {
  const steps = (record.details as { steps?: unknown }).steps;
  if (!Array.isArray(steps)) return [];
  const entries: TimelineEntry[] = [];
  (steps as ToolStep[]).slice(-MAX_TOOL_EVENTS / 2).forEach((s, i) => {
    entries.push({ key: `step-${i}-call`, kind: 'tool_call', time: null, label: `Tool call ${text(s.name)}`, detail: text(s.arguments) });
    if (s.result !== null && s.result !== undefined) {
      entries.push({
        key: `step-${i}-result`,
        kind: 'tool_result',
        time: null,
        label: `Tool result ${text(s.name)}${s.ok === false ? ' (error)' : ''}`,
        detail: text(s.result),
      });
    }
  });
  return entries;
}

/** The entries in the order they happen: queued, started, tool steps, tokens, then the end. */
export function buildTimeline(record: TaskRecord, live: LiveTask): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ key: 'queued', kind: 'queued', time: record.created_at, label: 'Queued' }];
  const startedAt = record.started_at ?? live.startedAt;
  if (startedAt !== null) entries.push({ key: 'started', kind: 'started', time: startedAt, label: 'Started' });
  // The live events carry times; the record's steps do not, so they stand in only when the page saw none.
  entries.push(...(live.tools.length > 0 ? live.tools : recordedTools(record)));
  if (record.tokens_used !== null) {
    entries.push({ key: 'tokens', kind: 'tokens', time: record.completed_at, label: `${record.tokens_used} tokens used` });
  } else if (live.tokens > 0) {
    entries.push({ key: 'tokens', kind: 'tokens', time: live.firstTokenAt, label: `${live.tokens} tokens streamed so far` });
  }
  const ended = ENDS.has(record.status) ? record.status : live.status !== null && ENDS.has(live.status) ? live.status : null;
  if (ended !== null) {
    const error = record.error ?? live.error;
    entries.push({
      key: 'end',
      kind: ended as TimelineKind,
      time: record.completed_at ?? live.endedAt,
      label: ended[0]!.toUpperCase() + ended.slice(1),
      ...(error !== null && { detail: error }),
    });
  }
  return entries;
}

/** The status to show: the stream's when it is newer than the record's. */
export function currentStatus(record: TaskRecord, live: LiveTask): string {
  if (ENDS.has(record.status)) return record.status;
  return live.status ?? record.status;
}
