// The request-body decoder's edges: strict UTF-8 and the nesting bound, exactly at and past it.
import { describe, expect, it } from 'vitest';
import { nestsDeeperThan, parseJsonBody } from '../../gateway/json-body.js';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('parseJsonBody', () => {
  it('parses valid UTF-8 JSON, multibyte characters included', () => {
    expect(parseJsonBody(bytes('{"name":"é😀\u202e"}'), 8)).toEqual({ ok: true, value: { name: 'é😀\u202e' } });
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    for (const bad of [[0xff], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]) {
      expect(parseJsonBody(bytes('{"d":"', bad, '"}'), 8)).toEqual({ ok: false, detail: 'Request body is not valid UTF-8' });
    }
  });

  it('refuses a leading UTF-8 byte-order mark by name, instead of stripping it', () => {
    expect(parseJsonBody(bytes([0xef, 0xbb, 0xbf], '{"a":1}'), 8)).toEqual({
      ok: false,
      detail: 'Request body starts with a UTF-8 byte-order mark (EF BB BF); send JSON without one',
    });
    // Inside a string it is just a character.
    expect(parseJsonBody(bytes('{"a":"', [0xef, 0xbb, 0xbf], '"}'), 8)).toEqual({ ok: true, value: { a: '\ufeff' } });
  });

  it('refuses text that is not JSON', () => {
    for (const text of ['', ' ', '{', '{"a":1,}', "{'a':1}", '{"a":NaN}', '{"a":"\\q"}']) {
      expect(parseJsonBody(bytes(text), 8)).toEqual({ ok: false, detail: 'Invalid JSON body' });
    }
  });

  it('accepts nesting up to the bound and refuses one level more', () => {
    expect(parseJsonBody(bytes('[[[1]]]'), 3).ok).toBe(true);
    expect(parseJsonBody(bytes('{"a":{"b":[{}]}}'), 4).ok).toBe(true);
    expect(parseJsonBody(bytes('[[[[1]]]]'), 3)).toEqual({ ok: false, detail: 'Request body nests arrays and objects deeper than 3 levels' });
    expect(parseJsonBody(bytes('{"a":{"b":[{}]}}'), 3).ok).toBe(false);
  });

  it('measures 100k levels without overflowing the stack', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(parseJsonBody(bytes(deep), 64).ok).toBe(false);
  });
});

describe('nestsDeeperThan', () => {
  it('counts scalars as no level and each array or object as one', () => {
    expect(nestsDeeperThan(1, 0)).toBe(false);
    expect(nestsDeeperThan('x', 0)).toBe(false);
    expect(nestsDeeperThan(null, 0)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan({}, 1)).toBe(false);
    expect(nestsDeeperThan([1, [2, [3]], { a: 'b' }], 3)).toBe(false);
    expect(nestsDeeperThan([1, [2, [3]], { a: 'b' }], 2)).toBe(true);
  });

  it('finds the one deep branch among many shallow ones', () => {
    const wide: unknown[] = Array.from({ length: 1000 }, () => ({ a: 1 }));
    // The array, the object, a, b, c: five levels.
    wide.push({ a: { b: { c: {} } } });
    expect(nestsDeeperThan(wide, 5)).toBe(false);
    expect(nestsDeeperThan(wide, 4)).toBe(true);
  });
});
