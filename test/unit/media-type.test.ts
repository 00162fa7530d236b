// What a body must declare itself as (gateway/media-type.ts), and which browser origins may write
// while auth is off (gateway/origin-guard.ts): pure decisions, tested as tables.
import { describe, expect, it } from 'vitest';
import { createCors } from '../../gateway/cors.js';
import { jsonMediaTypeRefusal } from '../../gateway/media-type.js';
import { createOriginGuard } from '../../gateway/origin-guard.js';

describe('jsonMediaTypeRefusal', () => {
  it('accepts application/json and +json types, in any case, with parameters and a UTF-8 charset', () => {
    for (const type of [
      'application/json',
      'Application/JSON',
      'application/json; charset=utf-8',
      'application/json;charset="UTF-8"',
      'application/json; charset=utf8',
      'application/json; foo=bar',
      '  application/json  ',
      'application/problem+json',
      'application/vnd.aurora.task+json; charset=utf-8',
    ]) {
      expect(jsonMediaTypeRefusal(type), type).toBeUndefined();
    }
  });

  it('refuses a missing Content-Type by saying what to send', () => {
    for (const missing of [undefined, '', '   ']) {
      expect(jsonMediaTypeRefusal(missing)).toBe('Content-Type is missing; send the body as application/json');
    }
  });

  it('refuses every other type, naming it', () => {
    for (const type of [
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      'application/json-patch',
      'text/json+xml',
      'application/+json',
      '+json',
      'json',
      'application/json, text/plain', // two Content-Type headers, joined
    ]) {
      expect(jsonMediaTypeRefusal(type), type).toMatch(/^Content-Type ".*" is not supported; send the body as application\/json$/);
    }
    expect(jsonMediaTypeRefusal('text/plain')).toBe('Content-Type "text/plain" is not supported; send the body as application/json');
  });

  it('refuses a charset other than UTF-8: the body would be read as something it is not', () => {
    expect(jsonMediaTypeRefusal('application/json; charset=utf-16')).toBe('charset "utf-16" is not supported; JSON bodies are UTF-8');
    expect(jsonMediaTypeRefusal('application/json; charset="ISO-8859-1"')).toBe('charset "iso-8859-1" is not supported; JSON bodies are UTF-8');
  });
});

describe('the origin guard (auth off)', () => {
  const host = '127.0.0.1:8000';
  const unlisted = createOriginGuard(false, createCors([]))!;
  const listed = createOriginGuard(false, createCors(['https://app.example']))!;

  it('is not there when auth is on: tokens stop cross-site requests', () => {
    expect(createOriginGuard(true, createCors(['https://app.example']))).toBeUndefined();
  });

  it('refuses a write from a foreign, null or malformed Origin, with a detail that says how to allow it', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(unlisted.refusal(method, { origin: 'https://evil.example', host })).toBe(
        'Cross-origin request refused: Origin "https://evil.example" is not in CORS_ORIGINS, and with AUTH_ENABLED=false only listed origins may change state',
      );
    }
    for (const origin of ['null', 'javascript:alert(1)', 'http://127.0.0.1:8001', 'https://127.0.0.1.evil.example:8000', '']) {
      expect(unlisted.refusal('POST', { origin, host }), origin).toMatch(/^Cross-origin request refused/);
    }
  });

  it('lets reads, requests without Origin, same-origin pages and listed origins through', () => {
    expect(unlisted.refusal('GET', { origin: 'https://evil.example', host })).toBeUndefined();
    expect(unlisted.refusal('HEAD', { origin: 'https://evil.example', host })).toBeUndefined();
    expect(unlisted.refusal('POST', { host })).toBeUndefined();
    expect(unlisted.refusal('POST', { origin: 'http://127.0.0.1:8000', host })).toBeUndefined();
    expect(unlisted.refusal('POST', { origin: 'http://LOCALHOST:8000', host: 'localhost:8000' })).toBeUndefined();
    expect(listed.refusal('DELETE', { origin: 'https://app.example', host })).toBeUndefined();
    expect(listed.refusal('DELETE', { origin: 'https://other.example', host })).toMatch(/^Cross-origin request refused/);
    expect(createOriginGuard(false, createCors(['*']))!.refusal('POST', { origin: 'https://any.example', host })).toBeUndefined();
  });

  it('treats a stream upgrade like a write: refused from a foreign origin, allowed from the server’s own', () => {
    expect(unlisted.upgradeRefusal({ origin: 'https://evil.example', host })).toMatch(/^Cross-origin request refused/);
    expect(unlisted.upgradeRefusal({ origin: 'http://127.0.0.1:8000', host })).toBeUndefined();
    expect(unlisted.upgradeRefusal({ host })).toBeUndefined();
  });
});
