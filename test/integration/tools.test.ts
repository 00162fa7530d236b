// The built-in tools through the registry, as the tool capability runs them: http_fetch against a
// real HTTP server on loopback (refused unless allowlisted), current_time against a manual clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EffectContext } from '../../actors/kind.js';
import { createManualClock, systemClock, type Clock } from '../../runtime/clock.js';
import { AuroraError } from '../../runtime/errors.js';
import type { Resolver } from '../../runtime/net/index.js';
import { builtinTools, createToolRegistry, toolCapability, type ToolRegistry } from '../../supervisors/capabilities/tools/index.js';
import { BIG_PAGE_BYTES, startHttpPages, type HttpPages } from '../fixtures/http-pages.js';

let site: HttpPages;
/** A second server on another loopback port: never allowlisted, so it must never be contacted. */
let other: HttpPages;

beforeAll(async () => {
  [site, other] = await Promise.all([startHttpPages(), startHttpPages()]);
});

afterAll(async () => {
  await Promise.all([site.close(), other.close()]);
});

function context(config: Record<string, unknown> = {}, signal = new AbortController().signal): EffectContext {
  return {
    agent: { name: 'fetcher', agent_type: 'llm', model_name: 'llama2', provider: 'ollama', description: '', config },
    taskId: 'task-1',
    task: { task_id: 'task-1', agent: 'tester', prompt: 'p', parameters: {} },
    deadlineAt: Number.MAX_SAFE_INTEGER,
    signal,
    token: () => {},
  };
}

function registry(clock: Clock = systemClock, resolve?: Resolver): ToolRegistry {
  return createToolRegistry({ clock, tools: builtinTools(resolve ? { resolve } : {}) });
}

/** Config that lets http_fetch reach the fixture's port (and only it). */
const allowSite = (over: Record<string, unknown> = {}) => ({ http_fetch: { allow_hosts: [`127.0.0.1:${site.port}`], ...over } });

async function fetchPage(url: string, config: Record<string, unknown> = allowSite(), tools = registry()) {
  const out = await tools.run('http_fetch', { url }, context(config));
  return JSON.parse(out) as { url: string; status: number; content_type: string; truncated: boolean; text: string };
}

async function failure(promise: Promise<unknown>): Promise<AuroraError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AuroraError) return err;
    throw err;
  }
  throw new Error('expected the promise to reject');
}

const contacted = (pages: HttpPages, path: string): boolean => pages.requests.some((r) => r.path === path);

describe('http_fetch: refused destinations', () => {
  it('refuses the loopback fixture when it is not in allow_hosts, without contacting it', async () => {
    const url = `http://127.0.0.1:${site.port}/text`;
    const before = site.requests.length;
    const err = await failure(registry().run('http_fetch', { url }, context()));
    expect(err.code).toBe('invalid_request');
    expect(err.message).toBe(
      `http_fetch refused ${url}: loopback address 127.0.0.1 (add it to config.http_fetch.allow_hosts to allow it)`,
    );
    expect(site.requests.length).toBe(before);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'cloud metadata address 169.254.169.254'],
    ['http://[fd00:ec2::254]/', 'cloud metadata address fd00:ec2::254'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'cloud metadata name metadata.google.internal'],
    ['http://localhost/', 'loopback name localhost'],
    ['http://api.localhost:8080/', 'loopback name api.localhost'],
    ['http://[::1]/', 'loopback address ::1'],
    ['http://[::ffff:127.0.0.1]/', 'loopback address ::ffff:127.0.0.1'],
    ['http://2130706433/', 'loopback address 127.0.0.1'],
    ['http://0x7f.1/', 'loopback address 127.0.0.1'],
    ['http://10.1.2.3/', 'private address 10.1.2.3'],
    ['http://192.168.0.1/', 'private address 192.168.0.1'],
    ['http://100.64.0.1/', 'carrier-grade NAT address 100.64.0.1'],
    ['http://0.0.0.0/', 'unspecified address 0.0.0.0'],
    ['http://[fe80::1]/', 'link-local address fe80::1'],
    ['http://224.0.0.1/', 'multicast address 224.0.0.1'],
    ['http://255.255.255.255/', 'broadcast address 255.255.255.255'],
  ])('refuses %s (%s)', async (url, reason) => {
    const err = await failure(registry().run('http_fetch', { url }, context(allowSite())));
    expect(err.code).toBe('invalid_request');
    expect(err.message).toContain(`: ${reason} (add it to config.http_fetch.allow_hosts`);
  });

  it.each(['file:///etc/passwd', 'data:text/plain,hello', 'ftp://example.com/file', 'gopher://example.com/'])(
    'refuses the scheme of %s',
    async (url) => {
      const err = await failure(registry().run('http_fetch', { url }, context()));
      expect(err.code).toBe('invalid_request');
      expect(err.message).toContain('only http and https URLs are fetched');
    },
  );

  it('refuses a URL it cannot parse', async () => {
    const err = await failure(registry().run('http_fetch', { url: 'not a url' }, context()));
    expect(err).toMatchObject({ code: 'invalid_request', message: 'http_fetch: "not a url" is not an absolute URL' });
  });

  it('refuses a redirect from the allowed fixture to a loopback port that is not allowed', async () => {
    const target = other.url('/text');
    const url = site.url(`/redirect?to=${encodeURIComponent(target)}`);
    const err = await failure(fetchPage(url));
    expect(err.code).toBe('invalid_request');
    expect(err.message).toBe(
      `http_fetch refused ${target} (redirected from ${url}): loopback address 127.0.0.1 ` +
        '(add it to config.http_fetch.allow_hosts to allow it)',
    );
    expect(contacted(site, '/redirect')).toBe(true);
    expect(contacted(other, '/text')).toBe(false);
  });

  it('refuses a redirect to the cloud metadata address', async () => {
    const err = await failure(fetchPage(site.url(`/redirect?to=${encodeURIComponent('http://169.254.169.254/')}`)));
    expect(err.code).toBe('invalid_request');
    expect(err.message).toContain('cloud metadata address 169.254.169.254');
  });

  it('refuses a redirect to a scheme other than http(s)', async () => {
    const err = await failure(fetchPage(site.url(`/redirect?to=${encodeURIComponent('file:///etc/passwd')}`)));
    expect(err.message).toContain('refused file:///etc/passwd');
  });

  it('gives up after five redirects', async () => {
    const err = await failure(fetchPage(site.url('/loop')));
    expect(err.code).toBe('invalid_request');
    expect(err.message).toContain('more than 5 redirects');
    expect(site.requests.filter((r) => r.path === '/loop').length).toBe(6);
  });
});

describe('http_fetch: names are checked on the addresses they resolve to', () => {
  const resolverOf = (answers: Record<string, string[]>, calls: string[] = []): Resolver => {
    return (hostname) => {
      calls.push(hostname);
      const addresses = answers[hostname];
      if (!addresses) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
      return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
    };
  };

  it('refuses a name that resolves to a private address', async () => {
    const tools = registry(systemClock, resolverOf({ 'intranet.test': ['10.0.0.7'] }));
    const err = await failure(tools.run('http_fetch', { url: 'http://intranet.test/' }, context()));
    expect(err.code).toBe('invalid_request');
    expect(err.message).toBe(
      'http_fetch refused http://intranet.test/: intranet.test resolves to private address 10.0.0.7 ' +
        '(add it to config.http_fetch.allow_hosts to allow it)',
    );
  });

  it('refuses a name when any of its addresses is refused, whichever the socket would pick', async () => {
    const tools = registry(systemClock, resolverOf({ 'mixed.test': ['93.184.216.34', `::ffff:127.0.0.1`] }));
    const err = await failure(tools.run('http_fetch', { url: 'http://mixed.test/' }, context()));
    expect(err.message).toContain('mixed.test resolves to loopback address ::ffff:127.0.0.1');
  });

  it('connects to exactly the address it checked, resolving the name once', async () => {
    const calls: string[] = [];
    const tools = registry(systemClock, resolverOf({ 'pages.test': ['127.0.0.1'] }, calls));
    const page = await fetchPage(`http://pages.test:${site.port}/json`, allowSite(), tools);
    expect(page.status).toBe(200);
    expect(calls).toEqual(['pages.test']);
    expect(site.requests.at(-1)).toEqual({ path: '/json', host: `pages.test:${site.port}` });
  });

  it('reaches a private name listed in allow_hosts by name', async () => {
    const tools = registry(systemClock, resolverOf({ 'pages.test': ['127.0.0.1'] }));
    const page = await fetchPage(`http://pages.test:${site.port}/text`, { http_fetch: { allow_hosts: ['pages.test'] } }, tools);
    expect(page.text).toBe('hello from the fixture ✓');
  });

  it('checks https destinations the same way, through the TLS socket’s own lookup', async () => {
    const tools = registry(systemClock, resolverOf({ 'intranet.test': ['10.0.0.7'], 'pages.test': ['127.0.0.1'] }));
    const refused = await failure(tools.run('http_fetch', { url: 'https://intranet.test/' }, context()));
    expect(refused.message).toContain('intranet.test resolves to private address 10.0.0.7');
    // The fixture speaks plain HTTP, so the TLS handshake fails; reaching it at all shows that the
    // https socket connected to the address the lookup checked (pages.test exists nowhere else).
    const before = site.connections();
    const err = await failure(tools.run('http_fetch', { url: `https://pages.test:${site.port}/text` }, context(allowSite())));
    expect(err.code).toBe('unavailable');
    expect(err.message).toContain(`http_fetch could not fetch https://pages.test:${site.port}/text`);
    expect(site.connections()).toBe(before + 1);
  });

  it('reports a name that does not resolve', async () => {
    const tools = registry(systemClock, resolverOf({}));
    const err = await failure(tools.run('http_fetch', { url: 'http://nowhere.test/' }, context()));
    expect(err).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('host nowhere.test not found') });
  });
});

describe('http_fetch: allowed destinations', () => {
  it('fetches a text page from the allowlisted fixture', async () => {
    const page = await fetchPage(site.url('/text'));
    expect(page).toEqual({
      url: site.url('/text'),
      status: 200,
      content_type: 'text/plain; charset=utf-8',
      truncated: false,
      text: 'hello from the fixture ✓',
    });
  });

  it('fetches when the whole loopback range is allowed as a CIDR', async () => {
    const page = await fetchPage(site.url('/json'), { http_fetch: { allow_hosts: ['127.0.0.0/8'] } });
    expect(JSON.parse(page.text)).toEqual({ ok: true, items: [1, 2, 3] });
    expect(page.content_type).toBe('application/json');
  });

  it('follows a relative redirect on the same allowed destination', async () => {
    const page = await fetchPage(site.url('/relative-redirect'));
    expect(page.url).toBe(site.url('/text'));
    expect(page.text).toBe('hello from the fixture ✓');
  });

  it('returns error statuses as answers, not failures', async () => {
    const page = await fetchPage(site.url('/missing'));
    expect(page).toMatchObject({ status: 404, text: 'no such page' });
  });

  it('decodes the declared charset, a <meta> charset and gzip', async () => {
    expect((await fetchPage(site.url('/latin1'))).text).toBe('café');
    expect((await fetchPage(site.url('/html-meta'))).text).toContain('naïve');
    expect((await fetchPage(site.url('/gzip'))).text).toBe('compressed hello');
  });

  it('describes a body that is not text instead of returning it', async () => {
    const page = await fetchPage(site.url('/image'));
    expect(page).toMatchObject({ status: 200, content_type: 'image/png', truncated: false });
    expect(page.text).toBe('[not text: image/png, 8 bytes; only text, JSON, XML and JavaScript bodies are returned]');
  });

  it('cuts the big page at max_bytes and says so', async () => {
    const page = await fetchPage(site.url('/big'), allowSite({ max_bytes: 1000 }));
    expect(page.truncated).toBe(true);
    expect(page.text).toHaveLength(1000);
    expect(page.text.startsWith('abcdefghijklmnopqrstuvwxyz012345')).toBe(true);
    const whole = await fetchPage(site.url('/big'), allowSite({ max_bytes: BIG_PAGE_BYTES }));
    expect(whole).toMatchObject({ truncated: false });
    expect(whole.text).toHaveLength(BIG_PAGE_BYTES);
  });

  it('sends URL credentials as Basic auth, malformed escapes as written', async () => {
    const authorization = async (userinfo: string) =>
      (JSON.parse((await fetchPage(`http://${userinfo}@127.0.0.1:${site.port}/headers`)).text) as { authorization: string })
        .authorization;
    expect(await authorization('ann:s%40cret')).toBe(`Basic ${Buffer.from('ann:s@cret').toString('base64')}`);
    expect(await authorization('ann%zz:pw')).toBe(`Basic ${Buffer.from('ann%zz:pw').toString('base64')}`);
  });

  it('refuses settings it cannot read, naming the field', async () => {
    const err = await failure(fetchPage(site.url('/text'), { http_fetch: { allow_hosts: ['http://x.test/'] } }));
    expect(err.message).toBe(
      'config.http_fetch.allow_hosts[0]: "http://x.test/" is not a hostname, host:port, IP address or CIDR range',
    );
    const typo = await failure(fetchPage(site.url('/text'), { http_fetch: { allow_host: [] } }));
    expect(typo.message).toBe('config.http_fetch.allow_host is not a known field');
  });
});

describe('http_fetch: time and cancellation', () => {
  it('times out the slow page when the clock passes timeout_ms, closing the connection', async () => {
    const clock = createManualClock(0);
    const call = failure(registry(clock).run('http_fetch', { url: site.url('/slow') }, context(allowSite({ timeout_ms: 2_000 }))));
    await site.received('/slow');
    clock.advance(2_000);
    const err = await call;
    expect(err.code).toBe('timeout');
    expect(err.message).toBe(`http_fetch timed out after 2000 ms fetching ${site.url('/slow')}`);
    await site.abandoned('/slow');
  });

  it('caps timeout_ms at 60 s', async () => {
    const clock = createManualClock(0);
    const call = failure(
      registry(clock).run('http_fetch', { url: site.url('/slow-body') }, context(allowSite({ timeout_ms: 3_600_000 }))),
    );
    await site.received('/slow-body');
    clock.advance(60_000);
    expect((await call).code).toBe('timeout');
    await site.abandoned('/slow-body');
  });

  it('stops when the effect is aborted, closing the connection', async () => {
    const controller = new AbortController();
    const call = failure(registry().run('http_fetch', { url: site.url('/slow') }, context(allowSite(), controller.signal)));
    await site.received('/slow');
    controller.abort();
    expect((await call).code).toBe('task_cancelled');
    await site.abandoned('/slow');
  });

  it('refuses to start once the effect is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await failure(registry().run('http_fetch', { url: site.url('/text') }, context(allowSite(), controller.signal)));
    expect(err.code).toBe('task_cancelled');
  });
});

describe('current_time', () => {
  const at = Date.UTC(2024, 2, 10, 13, 5, 7, 250); // Sunday 10 March 2024, 13:05:07.250 UTC

  it('follows the injected clock', async () => {
    const clock = createManualClock(at);
    const tools = registry(clock);
    expect(JSON.parse(await tools.run('current_time', {}, context()))).toEqual({
      iso: '2024-03-10T13:05:07.250+00:00',
      utc: '2024-03-10T13:05:07.250Z',
      timezone: 'UTC',
      weekday: 'Sunday',
    });
    clock.advance(11 * 3_600_000);
    expect(JSON.parse(await tools.run('current_time', {}, context()))).toMatchObject({
      iso: '2024-03-11T00:05:07.250+00:00',
      weekday: 'Monday',
    });
  });

  it('answers in the IANA zone asked for, or the agent default', async () => {
    const tools = registry(createManualClock(at));
    expect(JSON.parse(await tools.run('current_time', { timezone: 'Asia/Kathmandu' }, context()))).toMatchObject({
      iso: '2024-03-10T18:50:07.250+05:45',
      timezone: 'Asia/Kathmandu',
      weekday: 'Sunday',
    });
    const config = { current_time: { timezone: 'America/Los_Angeles' } };
    expect(JSON.parse(await tools.run('current_time', {}, context(config)))).toMatchObject({
      iso: '2024-03-10T06:05:07.250-07:00',
      timezone: 'America/Los_Angeles',
    });
  });

  it('refuses a time zone Intl does not know', async () => {
    const err = await failure(registry().run('current_time', { timezone: 'Mars/Olympus_Mons' }, context()));
    expect(err).toMatchObject({ code: 'invalid_request', message: 'timezone: "Mars/Olympus_Mons" is not an IANA time zone name' });
  });
});

describe('the tool capability', () => {
  it('runs a call and answers its content', async () => {
    const capability = toolCapability(registry(createManualClock(0)));
    const out = await capability({ name: 'current_time', arguments: {} }, context());
    expect(out).toEqual({ content: expect.stringContaining('"utc":"1970-01-01T00:00:00.000Z"') });
  });

  it('answers invalid arguments with invalid_request naming the field', async () => {
    const capability = toolCapability(registry());
    const err = await failure(capability({ name: 'http_fetch', arguments: { link: 'http://example.com/' } }, context()));
    expect(err).toMatchObject({ code: 'invalid_request', message: 'invalid arguments for http_fetch: url is required' });
  });
});
