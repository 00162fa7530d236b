// Small pure pieces of the gateway that the handler tests do not reach directly.
import uws from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { createRouter, route } from '../../gateway/router.js';
import { describeValidationError, pointerToField } from '../../gateway/schemas.js';
import { assertNativeUws, UwsUnavailableError } from '../../gateway/uws.js';

describe('native uWebSockets.js check', () => {
  it('accepts the native App', () => {
    expect(() => assertNativeUws(uws.App)).not.toThrow();
  });

  it('refuses a JavaScript fallback App with a clear error', () => {
    function App() {
      return {};
    }
    expect(() => assertNativeUws(App)).toThrow(UwsUnavailableError);
    expect(() => assertNativeUws(App)).toThrow(/native binary/);
    expect(() => assertNativeUws(undefined)).toThrow(UwsUnavailableError);
  });
});

describe('router', () => {
  const ok = async () => ({ status: 200, body: null });
  const router = createRouter([
    route({ method: 'GET', path: '/items/', handler: ok, responses: {} }),
    route({ method: 'GET', path: '/items/:id', handler: ok, responses: {} }),
    route({ method: 'POST', path: '/items/special', handler: ok, responses: {} }),
  ]);

  it('matches literal segments before parameters whatever the table order', () => {
    const m = router.match('POST', '/items/special');
    expect(m.kind === 'found' && m.route.path).toBe('/items/special');
    const g = router.match('GET', '/items/special');
    expect(g.kind === 'found' && g.params).toEqual({ id: 'special' });
  });

  it('does not match an empty parameter or extra segments', () => {
    expect(router.match('GET', '/items//').kind).toBe('not_found');
    expect(router.match('GET', '/items/a/b').kind).toBe('not_found');
  });

  it('refuses duplicate routes, trailing slash or not', () => {
    expect(() =>
      createRouter([
        route({ method: 'GET', path: '/a/', handler: ok, responses: {} }),
        route({ method: 'GET', path: '/a', handler: ok, responses: {} }),
      ]),
    ).toThrow(/Duplicate route/);
  });
});

describe('validation messages', () => {
  it('turns JSON pointers into field paths', () => {
    expect(pointerToField('')).toBe('');
    expect(pointerToField('/tasks/2/parameters/seed')).toBe('tasks[2].parameters.seed');
    expect(pointerToField('/config/a~1b')).toBe('config.a/b');
  });

  it('names the field in every kind of message', () => {
    expect(
      describeValidationError({ keyword: 'required', instancePath: '/tasks/0', schemaPath: '', params: { missingProperty: 'agent' } }),
    ).toBe('tasks[0].agent is required');
    expect(
      describeValidationError({ keyword: 'type', instancePath: '/name', schemaPath: '', params: {}, message: 'must be string' }),
    ).toBe('name: must be string');
  });
});
