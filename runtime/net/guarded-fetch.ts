// GET a URL on behalf of someone who must not reach the inside of our network (an LLM's tool call).
//
// Every hop (the first URL and each redirect, followed here, never by the client) is checked where
// it matters: an IP literal before connecting; a hostname inside the socket's own `lookup`, so the
// socket connects to exactly the addresses that were checked and a second DNS answer (rebinding)
// never gets a say. A name is refused when any of its addresses is refused. The allowlist admits
// names and addresses the rules would refuse. The whole exchange shares one deadline and follows
// the caller's AbortSignal; the body is read up to a byte bound and decoded as text.
import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Clock } from '../clock.js';
import { AuroraError, describe } from '../errors.js';
import { normalizeHostname, type HostAllowlist } from './host-allowlist.js';
import { classifyAddress, describeVerdict, parseIp, type IpAddress } from './ip-address.js';
import { decodeText, isTextual, looksBinary, parseContentType } from './text-body.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Every address of `hostname`; rejects with an error whose `code` is ENOTFOUND when it has none. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface GuardedFetchOptions {
  readonly allowlist: HostAllowlist;
  readonly maxBytes: number;
  /** Bounds everything: DNS, connecting, every redirect, reading the body. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Default 5. */
  readonly maxRedirects?: number;
  /** Default: the system resolver (dns.lookup, as the platform would). */
  readonly resolve?: Resolver;
  /** Who fetches, for messages: `http_fetch refused …`. */
  readonly caller: string;
  /** Where an operator adds exceptions, for refusal messages: `config.http_fetch.allow_hosts`. */
  readonly allowlistName: string;
}

export interface FetchedPage {
  /** The URL the answer came from, after redirects. */
  readonly url: string;
  readonly status: number;
  /** The Content-Type header as sent ('' when absent). */
  readonly contentType: string;
  /** Null when the body is not text (it was not read). */
  readonly text: string | null;
  readonly truncated: boolean;
  /** From Content-Length, when the server sent one. */
  readonly declaredBytes: number | null;
}

export const DEFAULT_MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

const REQUEST_HEADERS = {
  'user-agent': 'Aurora (tool fetch)',
  accept: 'text/html, text/plain;q=0.9, application/json;q=0.9, application/xml;q=0.8, */*;q=0.5',
  'accept-encoding': 'gzip, deflate, br',
  connection: 'close',
};

/** Names refused whatever DNS says: the answer for them is local by definition or by convention. */
const REFUSED_NAMES: ReadonlyArray<{ matches(host: string): boolean; reason: string }> = [
  { matches: (h) => h === 'localhost' || h.endsWith('.localhost'), reason: 'loopback name' },
  { matches: (h) => h === 'metadata.google.internal', reason: 'cloud metadata name' },
];

const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true });

export async function guardedFetch(target: string, options: GuardedFetchOptions): Promise<FetchedPage> {
  const { signal, clock } = options;
  if (signal.aborted) throw cancelled(signal.reason);
  // One controller for the whole exchange: the caller's abort and the deadline both end it, and
  // its reason is the error the caller gets.
  const exchange = new AbortController();
  const follow = (): void => exchange.abort(cancelled(signal.reason));
  signal.addEventListener('abort', follow, { once: true });
  const timer = clock.setTimeout(
    () => exchange.abort(new AuroraError('timeout', `${options.caller} timed out after ${options.timeoutMs} ms fetching ${target}`)),
    options.timeoutMs,
  );
  try {
    return await fetchFollowingRedirects(target, options, exchange.signal);
  } catch (err) {
    if (exchange.signal.aborted) throw exchange.signal.reason;
    throw err;
  } finally {
    timer.cancel();
    signal.removeEventListener('abort', follow);
  }
}

async function fetchFollowingRedirects(target: string, options: GuardedFetchOptions, signal: AbortSignal): Promise<FetchedPage> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let url = parseTarget(target, options);
  let from: URL | null = null;
  for (let redirects = 0; ; redirects++) {
    const res = await requestChecked(url, from, options, signal);
    const location = res.headers.location;
    const next = location !== undefined && REDIRECT_STATUSES.has(res.statusCode ?? 0) ? resolveLocation(location, url) : null;
    if (next === null) return readPage(url, res, options, signal);
    res.destroy();
    if (redirects >= maxRedirects) {
      throw new AuroraError('invalid_request', `${options.caller} gave up on ${target}: more than ${maxRedirects} redirects`);
    }
    from = url;
    url = next;
  }
}

function parseTarget(target: string, options: GuardedFetchOptions): URL {
  try {
    return new URL(target);
  } catch {
    throw new AuroraError('invalid_request', `${options.caller}: "${target}" is not an absolute URL`);
  }
}

/** A Location the client cannot parse ends the chain: the redirect itself is the answer. */
function resolveLocation(location: string, base: URL): URL | null {
  try {
    return new URL(location, base);
  } catch {
    return null;
  }
}

/** Sends the GET for `url` once its destination has passed the rules; resolves at the response head. */
function requestChecked(url: URL, from: URL | null, options: GuardedFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const refused = `${options.caller} refused ${url.href}${from ? ` (redirected from ${from.href})` : ''}`;
  const refuse = (reason: string): AuroraError =>
    new AuroraError('invalid_request', `${refused}: ${reason} (add it to ${options.allowlistName} to allow it)`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AuroraError('invalid_request', `${refused}: only http and https URLs are fetched`);
  }
  const host = normalizeHostname(url.hostname);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const { allowlist } = options;
  const nameAllowed = allowlist.allowsName(host, port);
  const literal = parseIp(host);

  if (literal) {
    const verdict = allowlist.allowsAddress(literal, port) ? null : classifyAddress(literal);
    if (verdict) throw refuse(describeVerdict(verdict));
  } else if (!nameAllowed) {
    const named = REFUSED_NAMES.find((n) => n.matches(host));
    if (named) throw refuse(`${named.reason} ${host}`);
  }

  // The refusal raised inside lookup, kept so the caller gets it as raised whatever error path the
  // socket takes to report a failed lookup.
  let refusal: AuroraError | null = null;
  const lookup = (
    hostname: string,
    lookupOptions: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    checkedAddresses(hostname, host, port, nameAllowed, options, refuse).then(
      (addresses) => {
        const family = lookupOptions.family;
        const usable = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
        const first = usable[0];
        if (!first) callback(notFound(hostname), '', 0);
        else if (lookupOptions.all) callback(null, usable.map((a) => ({ address: a.text, family: a.family })));
        else callback(null, first.text, first.family);
      },
      (err: unknown) => {
        if (err instanceof AuroraError) refusal = err;
        callback(err as NodeJS.ErrnoException, '', 0);
      },
    );
  };

  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    let req: http.ClientRequest;
    try {
      req = client.request(
        {
          protocol: url.protocol,
          hostname: literal ? literal.text : url.hostname,
          port,
          path: `${url.pathname}${url.search}`,
          method: 'GET',
          headers: REQUEST_HEADERS,
          ...(url.username !== '' && { auth: `${percentDecoded(url.username)}:${percentDecoded(url.password)}` }),
          // A fresh connection per hop: a pooled socket would skip the lookup above.
          agent: false,
          lookup,
          signal,
        },
        resolve,
      );
    } catch (err) {
      // The URL is the caller's (a model's): whatever node:http refuses in it is bad input, not a defect.
      reject(new AuroraError('invalid_request', `${options.caller} cannot request ${url.href}: ${describe(err)}`, { cause: err }));
      return;
    }
    req.on('error', (err) => reject(refusal ?? networkFailure(err, url, options)));
    req.end();
  });
}

/** URL userinfo as sent in Basic auth; malformed escapes are kept as written. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The addresses of `hostname` that the socket may use; rejects when any of them is refused. */
async function checkedAddresses(
  hostname: string,
  host: string,
  port: number,
  nameAllowed: boolean,
  options: GuardedFetchOptions,
  refuse: (reason: string) => AuroraError,
): Promise<IpAddress[]> {
  const answers = await (options.resolve ?? systemResolver)(hostname);
  const addresses: IpAddress[] = [];
  for (const answer of answers) {
    const ip = parseIp(answer.address);
    if (!ip) throw new AuroraError('unavailable', `${options.caller}: ${host} resolved to "${answer.address}", not an address`);
    const verdict = nameAllowed || options.allowlist.allowsAddress(ip, port) ? null : classifyAddress(ip);
    if (verdict) throw refuse(`${host} resolves to ${describeVerdict(verdict)}`);
    addresses.push(ip);
  }
  if (addresses.length === 0) throw notFound(hostname);
  return addresses;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
}

/** Reads the body of the final response (text only, up to maxBytes) and decodes it. */
async function readPage(url: URL, res: IncomingMessage, options: GuardedFetchOptions, signal: AbortSignal): Promise<FetchedPage> {
  const contentType = res.headers['content-type'] ?? '';
  const type = parseContentType(contentType);
  const length = Number(res.headers['content-length']);
  const page = {
    url: url.href,
    status: res.statusCode ?? 0,
    contentType,
    declaredBytes: Number.isSafeInteger(length) && length >= 0 ? length : null,
  };
  const body = type.essence === '' || isTextual(type) ? decoded(res) : null;
  if (body === null) {
    res.destroy();
    return { ...page, text: null, truncated: false };
  }
  const abort = (): void => void body.destroy(signal.reason as Error);
  signal.addEventListener('abort', abort, { once: true });
  try {
    const { bytes, truncated } = await readBounded(body, options.maxBytes);
    if (type.essence === '' && looksBinary(bytes)) return { ...page, text: null, truncated: false };
    return { ...page, text: decodeText(bytes, type, truncated), truncated };
  } catch (err) {
    if (signal.aborted) throw err;
    throw networkFailure(err, url, options);
  } finally {
    signal.removeEventListener('abort', abort);
    res.destroy();
  }
}

/** The body without its Content-Encoding; null for an encoding we do not read. */
function decoded(res: IncomingMessage): Readable | null {
  const encoding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const inflate =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : null;
  if (inflate === null) return encoding === 'identity' || encoding === '' ? res : null;
  // pipeline destroys both streams when either fails or is destroyed; the failure reaches the
  // reader through the decompressor, so the callback has nothing left to do.
  return pipeline(res, inflate, () => {});
}

/** Reads at most `maxBytes`; stops (closing the stream) as soon as there is more. */
async function readBounded(body: Readable, maxBytes: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = maxBytes - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { bytes: Buffer.concat(chunks), truncated: false };
}

function networkFailure(err: unknown, url: URL, options: GuardedFetchOptions): AuroraError {
  if (err instanceof AuroraError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOTFOUND') {
    return new AuroraError('invalid_request', `${options.caller} could not fetch ${url.href}: host ${url.hostname} not found`, { cause: err });
  }
  return new AuroraError('unavailable', `${options.caller} could not fetch ${url.href}: ${code ?? describe(err)}`, { cause: err });
}

function cancelled(reason: unknown): AuroraError {
  if (reason instanceof AuroraError) return reason;
  return new AuroraError('task_cancelled', 'task cancelled', { cause: reason });
}
