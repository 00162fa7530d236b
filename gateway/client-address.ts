// Who is calling, by network address: the socket's peer, or, behind trusted proxies, the address
// they recorded in X-Forwarded-For.
//
// X-Forwarded-For is ignored unless TRUST_PROXY says how many proxies stand in front of the
// gateway, because any client can send the header: believing it from the open internet would let
// every request pick its own rate-limit bucket. With N trusted proxies, each appends the address it
// received from, so the client is the entry N places from the right of [...forwarded, peer];
// anything further left was written by the client and is not believed. TRUST_PROXY must only be
// set when the gateway cannot be reached except through those proxies. (RFC 7239 `Forwarded` is
// not read; the proxies Aurora is deployed behind all write X-Forwarded-For.)
import { isIP } from 'node:net';

/** What a request is keyed by when nobody can say who sent it (tests that skip the socket). */
export const UNKNOWN_ADDRESS = 'unknown';

/**
 * An address in one canonical spelling: IPv4 dotted; IPv6 as eight lower-case 4-digit groups
 * (which is how uWS reports peers); IPv4-mapped IPv6 as the IPv4 it carries. Accepts the
 * `[v6]:port` and `v4:port` forms some proxies write. undefined when it is not an IP address.
 */
export function normalizeIp(raw: string): string | undefined {
  let s = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else {
    const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(s);
    if (v4port) s = v4port[1]!;
  }
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6) return undefined;
  const groups = expandIpv6(s.toLowerCase());
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
}

/** The eight 16-bit groups of an address `isIP` already accepted as IPv6. */
function expandIpv6(s: string): number[] {
  let text = s;
  const tail: number[] = [];
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, v4.index) + '0';
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  if (tail.length > 0) {
    // The '0' stood in for the dotted quad; swap it for its two groups.
    (right.length > 0 ? right : left).pop();
  }
  const missing = 8 - left.length - right.length - tail.length;
  return [...left, ...new Array<number>(Math.max(0, missing)).fill(0), ...right, ...tail];
}

/** The caller's address: the socket peer, or the entry `trustedHops` proxies vouch for. */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trustedHops: number): string {
  const fromPeer = peer === undefined ? undefined : normalizeIp(peer);
  if (trustedHops <= 0 || forwardedFor === undefined) return fromPeer ?? UNKNOWN_ADDRESS;
  const chain = forwardedFor
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  chain.push(peer ?? UNKNOWN_ADDRESS);
  const vouched = chain[Math.max(0, chain.length - 1 - trustedHops)]!;
  // A trusted proxy that wrote garbage is misconfigured; the socket peer is still a real address.
  return normalizeIp(vouched) ?? fromPeer ?? UNKNOWN_ADDRESS;
}

/**
 * The rate-limit bucket of an address. IPv6 clients are grouped by their /64, because one host is
 * usually given a whole /64 and could otherwise take a fresh address (and a fresh budget) per request.
 */
export function addressBucket(address: string): string {
  if (address.includes(':')) return `ip6:${address.split(':').slice(0, 4).join(':')}::/64`;
  return `ip:${address}`;
}
