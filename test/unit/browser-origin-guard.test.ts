// Where a browser agent's pages may go: the origin policy parsed from allowed_origins and the
// checks every request goes through (names resolved by a fake resolver, never the network).
import { describe, expect, it } from 'vitest';
import { createOriginGuard, parseOriginPolicy, type OriginPolicy } from '../../supervisors/browser/origin-guard.js';

const FIELD = 'config.allowed_origins';
const DNS: Record<string, string[]> = {
  'example.com': ['93.184.215.14'],
  'inside.example.com': ['10.1.2.3'],
  'rebind.example.com': ['93.184.215.14', '127.0.0.1'],
  'metadata.example.com': ['169.254.169.254'],
};
const resolve = async (host: string) => {
  const answers = DNS[host];
  if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

function policy(entries: string[]): OriginPolicy {
  const parsed = parseOriginPolicy(entries, FIELD);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

const guard = (entries: string[]) => createOriginGuard(policy(entries), FIELD, resolve);

describe('allowed_origins', () => {
  it('accepts origins, "*" and schemes, and names the entry that is none of them', () => {
    expect(policy(['https://Example.com:443', '*', 'data:'])).toEqual({
      origins: new Set(['https://example.com']),
      anyPublic: true,
      schemes: new Set(['data:']),
    });
    expect(parseOriginPolicy(['https://example.com', 'https://example.com/path'], FIELD)).toContain('config.allowed_origins[1]');
    expect(parseOriginPolicy(['ftp://example.com'], FIELD)).toContain('not an origin');
    expect(parseOriginPolicy(['not a url'], FIELD)).toContain('config.allowed_origins[0]');
  });
});

describe('origin guard', () => {
  it('lets a listed origin through, loopback included, and nothing else', async () => {
    const g = guard(['http://127.0.0.1:4567']);
    expect(await g.check('http://127.0.0.1:4567/login', true)).toEqual({ ok: true });
    const otherPort = await g.check('http://127.0.0.1:4568/', true);
    expect(otherPort).toEqual({ ok: false, reason: expect.stringContaining('origin http://127.0.0.1:4568 is not allowed') });
    expect((await g.check('https://example.com/', false)).ok).toBe(false);
  });

  it('refuses a listed hostname that resolves to a private, loopback or metadata address', async () => {
    const g = guard(['https://inside.example.com', 'https://rebind.example.com', 'https://metadata.example.com', 'https://example.com']);
    expect(await g.check('https://example.com/', true)).toEqual({ ok: true });
    expect(await g.check('https://inside.example.com/', true)).toMatchObject({ ok: false, reason: expect.stringContaining('private address 10.1.2.3') });
    expect(await g.check('https://rebind.example.com/', true)).toMatchObject({ ok: false, reason: expect.stringContaining('loopback') });
    expect(await g.check('https://metadata.example.com/', true)).toMatchObject({ ok: false, reason: expect.stringContaining('metadata') });
  });

  it('with "*", admits public destinations only, after resolving them', async () => {
    const g = guard(['*']);
    expect(await g.check('https://example.com/a', true)).toEqual({ ok: true });
    for (const url of ['http://127.0.0.1/', 'http://[::1]/', 'http://10.0.0.1/', 'http://169.254.169.254/latest', 'http://localhost:8000/', 'https://inside.example.com/', 'https://nowhere.example.com/']) {
      expect((await g.check(url, true)).ok, url).toBe(false);
    }
  });

  it('refuses file:, chrome: and data: navigation unless the scheme is listed; data: subresources stay in the page', async () => {
    const g = guard(['https://example.com']);
    for (const url of ['file:///etc/passwd', 'chrome://version', 'data:text/html,<b>x</b>', 'javascript:alert(1)']) {
      expect((await g.check(url, true)).ok, url).toBe(false);
    }
    expect(await g.check('data:image/png;base64,AAAA', false)).toEqual({ ok: true });
    expect(await g.check('about:blank', true)).toEqual({ ok: true });
    const opened = guard(['data:', 'file:']);
    expect(await opened.check('data:text/html,<b>x</b>', true)).toEqual({ ok: true });
    expect(await opened.check('file:///tmp/x.html', true)).toEqual({ ok: true });
  });
});
