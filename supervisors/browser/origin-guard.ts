// Where a browser agent's pages may go: every navigation, redirect hop and subresource request is
// checked here before Chromium sends it (request interception).
//
// allowed_origins entries:
//   https://example.com, http://127.0.0.1:4567   exactly that origin (scheme, host, port)
//   *                                             any origin on a public address
//   data:, file:, chrome:                         navigation to that scheme
// A listed origin named by an IP address or `localhost` is trusted as listed (the operator named
// the address). A listed origin named by a hostname, and every origin reached through `*`, must
// resolve to public addresses only: loopback, private, link-local, CGNAT and cloud-metadata
// addresses are refused after DNS resolution, as runtime/net refuses them for http_fetch.
// Chromium resolves names again when it connects, so a name whose answer flips between the two
// lookups (DNS rebinding) is not caught here; list origins by address where that matters.
import { promises as dns } from 'node:dns';
import { classifyAddress, describeVerdict, normalizeHostname, parseIp, type Resolver } from '../../runtime/net/index.js';

export interface OriginPolicy {
  readonly origins: ReadonlySet<string>;
  readonly anyPublic: boolean;
  /** Schemes (with their colon) navigation may use besides http and https. */
  readonly schemes: ReadonlySet<string>;
}

/** A refusal: why, in words that name the setting that would allow it. */
export type Verdict = { ok: true } | { ok: false; reason: string };

const OK: Verdict = { ok: true };
const SCHEME_ENTRY = /^[a-z][a-z0-9+.-]*:$/;
/** Answers remembered per guard (one task's page); the oldest is forgotten beyond it. */
const DNS_MEMORY_MAX = 256;

/** Parses allowed_origins; a message names the entry that is not an origin. */
export function parseOriginPolicy(entries: readonly string[], field: string): OriginPolicy | string {
  const origins = new Set<string>();
  const schemes = new Set<string>();
  let anyPublic = false;
  for (const [i, raw] of entries.entries()) {
    const entry = raw.trim().toLowerCase();
    if (entry === '*') {
      anyPublic = true;
      continue;
    }
    if (SCHEME_ENTRY.test(entry)) {
      schemes.add(entry);
      continue;
    }
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      return `${field}[${i}]: "${raw}" is not an origin (https://host[:port]), "*" or a scheme such as "data:"`;
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '' || url.username !== '') {
      return `${field}[${i}]: "${raw}" is not an origin: scheme://host[:port] with http or https, no path`;
    }
    origins.add(url.origin);
  }
  return { origins, anyPublic, schemes };
}

export interface OriginGuard {
  /** Whether `url` may be requested; `navigation`: it would replace the page's document. */
  check(url: string, navigation: boolean): Promise<Verdict>;
}

export function createOriginGuard(policy: OriginPolicy, field: string, resolve: Resolver = systemResolver): OriginGuard {
  const answers = new Map<string, Promise<Verdict>>();
  const refuse = (url: string, why: string): Verdict => ({ ok: false, reason: `${url}: ${why} (see ${field})` });

  const publicOnly = (hostname: string): Promise<Verdict> => {
    const known = answers.get(hostname);
    if (known) return known;
    const verdict = resolve(hostname).then(
      (addresses): Verdict => {
        for (const a of addresses) {
          const ip = parseIp(a.address);
          const bad = ip ? classifyAddress(ip) : null;
          if (!ip) return { ok: false, reason: `${hostname} resolved to "${a.address}", not an address` };
          if (bad) return { ok: false, reason: `${hostname} resolves to ${describeVerdict(bad)}` };
        }
        return addresses.length > 0 ? OK : { ok: false, reason: `${hostname} has no address` };
      },
      (): Verdict => ({ ok: false, reason: `${hostname} could not be resolved` }),
    );
    if (answers.size >= DNS_MEMORY_MAX) answers.delete(answers.keys().next().value!);
    answers.set(hostname, verdict);
    return verdict;
  };

  return {
    async check(raw, navigation) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return refuse(raw, 'not a URL');
      }
      if (url.href === 'about:blank') return OK;
      if (url.protocol === 'data:' || url.protocol === 'blob:') {
        // A data: or blob: subresource stays inside the page: nothing leaves the machine.
        if (!navigation || policy.schemes.has(url.protocol)) return OK;
        return refuse(raw.slice(0, 64), `${url.protocol} navigation is off unless "${url.protocol}" is listed`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        if (policy.schemes.has(url.protocol)) return OK;
        return refuse(url.href, `${url.protocol} URLs are refused unless "${url.protocol}" is listed`);
      }
      const host = normalizeHostname(url.hostname);
      const literal = parseIp(host);
      if (policy.origins.has(url.origin)) {
        if (literal || host === 'localhost') return OK;
        const named = await publicOnly(host);
        return named.ok ? OK : refuse(url.href, `${named.reason}; list it by address to allow it`);
      }
      if (!policy.anyPublic) return refuse(url.href, `origin ${url.origin} is not allowed`);
      if (literal) {
        const bad = classifyAddress(literal);
        return bad ? refuse(url.href, `${describeVerdict(bad)} is not public; list its origin to allow it`) : OK;
      }
      if (host === 'localhost' || host.endsWith('.localhost') || host === 'metadata.google.internal') {
        return refuse(url.href, `${host} is not public; list its origin to allow it`);
      }
      const named = await publicOnly(host);
      return named.ok ? OK : refuse(url.href, `${named.reason}; list its origin to allow it`);
    },
  };
}

const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true });
