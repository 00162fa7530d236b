// `http_fetch`: GET a URL and hand the model its text. The network rules (public destinations
// only, every redirect and DNS answer checked, bounded in bytes and time) live in runtime/net;
// this file reads the agent's settings and shapes the answer.
//
// Settings (config.http_fetch):
//   allow_hosts  hostnames, host:port, IPs or CIDRs reachable even though not public
//   max_bytes    body bytes read (default 1 MiB, capped at 10 MiB); the rest is cut, truncated: true
//   timeout_ms   the whole exchange, redirects included (default 10 s, capped at 60 s)
import { AuroraError } from '../../../runtime/errors.js';
import { guardedFetch, parseHostAllowlist, type HostAllowlist, type Resolver } from '../../../runtime/net/index.js';
import { compileValidator } from '../../../runtime/validation.js';
import type { Tool } from './tool.js';

export const HTTP_FETCH = 'http_fetch';

export const HTTP_FETCH_LIMITS = {
  maxBytesDefault: 1024 * 1024,
  maxBytesCap: 10 * 1024 * 1024,
  timeoutMsDefault: 10_000,
  timeoutMsCap: 60_000,
  urlMaxLength: 8192,
  allowHostsMax: 1000,
} as const;

interface RawSettings {
  allow_hosts?: string[];
  max_bytes?: number;
  timeout_ms?: number;
}

interface Settings {
  allowlist: HostAllowlist;
  maxBytes: number;
  timeoutMs: number;
}

const SETTINGS_FIELD = `config.${HTTP_FETCH}`;

const validateSettings = compileValidator<RawSettings>(
  {
    type: 'object',
    properties: {
      allow_hosts: {
        type: 'array',
        maxItems: HTTP_FETCH_LIMITS.allowHostsMax,
        items: { type: 'string', maxLength: 300 },
      },
      max_bytes: { type: 'integer', minimum: 1 },
      timeout_ms: { type: 'integer', minimum: 1 },
    },
    additionalProperties: false,
  },
  SETTINGS_FIELD,
);

export interface HttpFetchOptions {
  /** Replaces the system resolver (tests map names to fixture addresses). */
  readonly resolve?: Resolver;
}

export function httpFetchTool(options: HttpFetchOptions = {}): Tool {
  // An agent's config does not change under it, so its parsed settings are kept with it.
  const parsed = new WeakMap<object, Settings>();
  const settingsOf = (raw: unknown): Settings => {
    if (typeof raw === 'object' && raw !== null) {
      const known = parsed.get(raw);
      if (known) return known;
    }
    const settings = parseSettings(raw ?? {});
    if (typeof raw === 'object' && raw !== null) parsed.set(raw, settings);
    return settings;
  };

  return {
    spec: {
      name: HTTP_FETCH,
      description:
        'Fetch a web page or API response over HTTP(S) with GET and return its text. Returns JSON: url (after redirects), ' +
        'status, content_type, truncated (true when the body was cut at the size limit) and text. Only public ' +
        'addresses can be fetched; non-text content is described, not returned.',
      parameters: {
        type: 'object',
        properties: {
          url: {
            type: 'string',
            minLength: 1,
            maxLength: HTTP_FETCH_LIMITS.urlMaxLength,
            description: 'Absolute http:// or https:// URL',
          },
        },
        required: ['url'],
        additionalProperties: false,
      },
    },

    async run(args, ctx) {
      const settings = settingsOf(ctx.settings);
      const page = await guardedFetch(String(args.url), {
        allowlist: settings.allowlist,
        maxBytes: settings.maxBytes,
        timeoutMs: settings.timeoutMs,
        signal: ctx.signal,
        clock: ctx.clock,
        caller: HTTP_FETCH,
        allowlistName: `${SETTINGS_FIELD}.allow_hosts`,
        ...(options.resolve && { resolve: options.resolve }),
      });
      const text =
        page.text ??
        `[not text: ${page.contentType || 'no content type'}${page.declaredBytes !== null ? `, ${page.declaredBytes} bytes` : ''}; ` +
          'only text, JSON, XML and JavaScript bodies are returned]';
      return JSON.stringify({
        url: page.url,
        status: page.status,
        content_type: page.contentType,
        truncated: page.truncated,
        text,
      });
    },
  };
}

function parseSettings(raw: unknown): Settings {
  const checked = validateSettings(raw);
  if (!checked.ok) throw new AuroraError('invalid_request', checked.message);
  const { allow_hosts = [], max_bytes, timeout_ms } = checked.value;
  const allowlist = parseHostAllowlist(allow_hosts, `${SETTINGS_FIELD}.allow_hosts`);
  if (!allowlist.ok) throw new AuroraError('invalid_request', allowlist.message);
  return {
    allowlist: allowlist.value,
    maxBytes: Math.min(max_bytes ?? HTTP_FETCH_LIMITS.maxBytesDefault, HTTP_FETCH_LIMITS.maxBytesCap),
    timeoutMs: Math.min(timeout_ms ?? HTTP_FETCH_LIMITS.timeoutMsDefault, HTTP_FETCH_LIMITS.timeoutMsCap),
  };
}
