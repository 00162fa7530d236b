// The paging helper every list route uses: its query checks and the Link / X-Next-Cursor headers.
import { describe, expect, it } from 'vitest';
import type { HandlerRequest } from '../../gateway/http.js';
import { nextPageHeaders, pageParams } from '../../gateway/routes/paging.js';
import { AuroraError } from '../../runtime/errors.js';

const request = (query: Record<string, string>): HandlerRequest => ({ params: {}, query, body: undefined, headers: {} });

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuroraError);
    expect((err as AuroraError).code).toBe('invalid_request');
    return (err as AuroraError).message;
  }
  throw new Error('expected a 400');
}

describe('paging', () => {
  it('reads limit (default 50, 1 to 1000) and an opaque cursor, refusing others by name', () => {
    expect(pageParams(request({}))).toEqual({ limit: 50 });
    expect(pageParams(request({ limit: '1000', cursor: 'abc' }))).toEqual({ limit: 1000, cursor: 'abc' });
    expect(pageParams(request({}), 7)).toEqual({ limit: 7 });
    for (const limit of ['0', '1001', '-1', '1.5', 'ten', '']) {
      expect(refusal(() => pageParams(request({ limit })))).toBe('limit: must be an integer between 1 and 1000');
    }
    expect(refusal(() => pageParams(request({ cursor: '' })))).toBe('cursor: must be 1 to 512 characters');
    expect(refusal(() => pageParams(request({ cursor: 'x'.repeat(513) })))).toBe('cursor: must be 1 to 512 characters');
  });

  it('announces the next page in Link and X-Next-Cursor, keeping the other parameters and replacing the cursor', () => {
    expect(nextPageHeaders('/api/v1/tasks/', { agent: 'a.b', limit: '2', cursor: 'old' }, 'n3xt_-')).toEqual({
      link: '</api/v1/tasks/?agent=a.b&limit=2&cursor=n3xt_->; rel="next"',
      'x-next-cursor': 'n3xt_-',
    });
    expect(nextPageHeaders('/api/v1/events', { type: 'supervisor.*', since: '2025-01-01T00:00:00+01:00' }, 'c')).toEqual({
      link: '</api/v1/events?type=supervisor.*&since=2025-01-01T00%3A00%3A00%2B01%3A00&cursor=c>; rel="next"',
      'x-next-cursor': 'c',
    });
    expect(nextPageHeaders('/api/v1/tasks/', { limit: '2' }, null)).toEqual({});
  });
});
