// The stream's wire protocol without sockets: filters, client message parsing, the upgrade query.
import { describe, expect, it } from 'vitest';
import type { AuroraEvent } from '../../runtime/protocol/index.js';
import { compileCodecs } from '../../gateway/schemas.js';
import {
  MAX_FILTER_ENTRIES,
  compileFilter,
  filterKey,
  globMatch,
  parseClientMessage,
  parseStreamQuery,
  type TaskValidator,
} from '../../gateway/stream-protocol.js';

const codecs = compileCodecs();
const validateTask: TaskValidator = (body) => codecs.validate('TaskExecuteRequest', body);
const parse = (msg: unknown) => parseClientMessage(typeof msg === 'string' ? msg : JSON.stringify(msg), validateTask);

const ev = (type: AuroraEvent['type'], agent?: string, task_id?: string): AuroraEvent => {
  const e: AuroraEvent = { type, time: '2024-01-01T00:00:00.000Z', payload: {} };
  if (agent !== undefined) e.agent = agent;
  if (task_id !== undefined) e.task_id = task_id;
  return e;
};

describe('globMatch', () => {
  it.each([
    ['a*', 'alpha', true],
    ['a*', 'beta', false],
    ['task.*', 'task.token', true],
    ['task.*', 'agent.created', false],
    ['*', '', true],
    ['*.token', 'task.token', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['a.b', 'a.b', true],
    ['*x*x*x*x*x*x*x*x*y', 'x'.repeat(200), false],
  ])('%s against %s is %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });
});

describe('compileFilter', () => {
  it('matches everything when no list is given', () => {
    expect(compileFilter({}).matches(ev('agent.created'))).toBe(true);
  });

  it('needs every given list to match, any entry of a list being enough', () => {
    const f = compileFilter({ agents: ['alpha*', 'beta'], types: ['task.*'] });
    expect(f.matches(ev('task.token', 'alpha-1'))).toBe(true);
    expect(f.matches(ev('task.queued', 'beta'))).toBe(true);
    expect(f.matches(ev('agent.created', 'alpha-1'))).toBe(false);
    expect(f.matches(ev('task.token', 'betamax'))).toBe(false);
    expect(f.matches(ev('task.token'))).toBe(false); // no agent: an agent filter cannot match it
  });

  it('matches task ids exactly: no wildcards there', () => {
    const f = compileFilter({ tasks: ['t-1', 't*'] });
    expect(f.matches(ev('task.token', 'a', 't-1'))).toBe(true);
    expect(f.matches(ev('task.token', 'a', 't-2'))).toBe(false);
    expect(f.matches(ev('task.token', 'a', 't*'))).toBe(true);
  });

  it('matches nothing with an empty list', () => {
    expect(compileFilter({ agents: [] }).matches(ev('task.token', 'a'))).toBe(false);
  });

  it('matches a run\'s whole subtree by run id: its own task, and every event whose lineage holds it', () => {
    const f = compileFilter({ runs: ['r1'] });
    const traced = (lineage: string[], task = 'step'): AuroraEvent => ({ ...ev('task.token', 'writer', task), run_id: lineage.at(-1)!, lineage });
    expect(f.matches(ev('task.completed', 'wf.x', 'r1'))).toBe(true);
    expect(f.matches(traced(['r1']))).toBe(true);
    expect(f.matches(traced(['r0', 'r1', 'r2']))).toBe(true);
    expect(f.matches(traced(['r0']))).toBe(false);
    expect(f.matches(ev('task.token', 'writer', 'other'))).toBe(false);
    expect(filterKey({ runs: ['r1'] })).not.toBe(filterKey({ tasks: ['r1'] }));
    expect(parseStreamQuery('runs=r1,r2').ok && parseStreamQuery('runs=r1,r2')).toMatchObject({ value: { runs: ['r1', 'r2'] } });
  });
});

describe('filterKey', () => {
  it('is equal for filters that differ only in order or repeats, and tells absent from empty lists', () => {
    expect(filterKey({ agents: ['b', 'a', 'b'], types: ['task.token'] })).toBe(filterKey({ types: ['task.token'], agents: ['a', 'b'] }));
    expect(filterKey({})).not.toBe(filterKey({ agents: [] }));
    expect(filterKey({ agents: ['a'] })).not.toBe(filterKey({ tasks: ['a'] }));
    expect(filterKey({ agents: ['a,b'] })).not.toBe(filterKey({ agents: ['a', 'b'] }));
  });
});

describe('parseClientMessage', () => {
  it('parses each op', () => {
    expect(parse({ op: 'ping' })).toEqual({ ok: true, value: { op: 'ping' } });
    expect(parse({ op: 'unsubscribe' })).toEqual({ ok: true, value: { op: 'unsubscribe' } });
    expect(parse({ op: 'subscribe', agents: ['a*'], types: ['task.*'], tasks: ['x'], since: 3 })).toEqual({
      ok: true,
      value: { op: 'subscribe', agents: ['a*'], types: ['task.*'], tasks: ['x'], since: 3 },
    });
    expect(parse({ op: 'execute', agent: 'writer', prompt: 'hi', request_id: 'r1' })).toEqual({
      ok: true,
      value: { op: 'execute', agent: 'writer', prompt: 'hi', parameters: {}, request_id: 'r1' },
    });
  });

  it.each([
    ['{not json', 'not valid JSON'],
    ['[1,2]', 'must be a JSON object'],
    [{ op: 42 }, 'op must be a string'],
    [{ op: 'dance' }, 'unknown op "dance"'],
    [{ op: 'ping', extra: 1 }, 'unknown field "extra"'],
    [{ op: 'subscribe', agents: 'a' }, 'agents must be an array'],
    [{ op: 'subscribe', agents: [1] }, 'non-empty strings'],
    [{ op: 'subscribe', since: -1 }, 'since must be a non-negative integer'],
    [{ op: 'subscribe', since: '4' }, 'since must be a non-negative integer'],
    [{ op: 'subscribe', types: ['task.tokn'] }, 'matches no event type'],
    [{ op: 'subscribe', tasks: Array.from({ length: MAX_FILTER_ENTRIES + 1 }, (_, i) => `t${i}`) }, 'at most'],
    [{ op: 'execute', agent: 'writer' }, 'prompt'],
    [{ op: 'execute', agent: 'bad name!', prompt: 'x' }, 'agent'],
    [{ op: 'execute', agent: 'w', prompt: 'x', parameters: { timeout_ms: 'soon' } }, 'parameters.timeout_ms'],
    [{ op: 'execute', agent: 'w', prompt: 'x', request_id: 7 }, 'request_id must be a string'],
  ])('rejects %j with a detail naming the problem', (msg, detail) => {
    const r = parse(msg);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.detail).toContain(detail);
  });

  it('echoes the request_id of a rejected execute', () => {
    expect(parse({ op: 'execute', agent: 'w', request_id: 'r9' })).toMatchObject({ ok: false, request_id: 'r9' });
  });
});

describe('parseStreamQuery', () => {
  it('reads comma-separated and repeated lists and since', () => {
    expect(parseStreamQuery('agents=a*,b&agents=c&types=task.*&tasks=t1&since=42')).toEqual({
      ok: true,
      value: { op: 'subscribe', agents: ['a*', 'b', 'c'], types: ['task.*'], tasks: ['t1'], since: 42 },
    });
  });

  it('subscribes to everything with an empty query and ignores unknown parameters', () => {
    expect(parseStreamQuery('')).toEqual({ ok: true, value: { op: 'subscribe' } });
    expect(parseStreamQuery('token=abc')).toEqual({ ok: true, value: { op: 'subscribe' } });
  });

  it('rejects a bad since or a types typo', () => {
    expect(parseStreamQuery('since=abc').ok).toBe(false);
    expect(parseStreamQuery('since=-3').ok).toBe(false);
    expect(parseStreamQuery('types=tsk.*').ok).toBe(false);
  });
});
