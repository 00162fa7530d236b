// The destinations an operator lets an outbound fetch reach even though they are not public
// (an internal service, a fixture on loopback). Entries: `host`, `host:port`, an IP, `ip:port`,
// `[v6]:port`, or a CIDR. Names match the URL's host; addresses and ranges match the address the
// socket connects to, so `10.0.0.0/8` admits every name that resolves inside it.
import { domainToASCII } from 'node:url';
import { isIPv6 } from 'node:net';
import { cidrContains, parseCidr, parseIp, unmapIpv4, type Cidr, type IpAddress } from './ip-address.js';

export interface HostAllowlist {
  /** An entry names `hostname` (lower case, no brackets, no trailing dot) at `port`. */
  allowsName(hostname: string, port: number): boolean;
  /** An entry's address or range holds `ip` at `port`. */
  allowsAddress(ip: IpAddress, port: number): boolean;
}

type Entry = { kind: 'name'; hostname: string; port: number | null } | { kind: 'range'; range: Cidr; port: number | null };

export type AllowlistParse = { ok: true; value: HostAllowlist } | { ok: false; message: string };

export const EMPTY_ALLOWLIST: HostAllowlist = { allowsName: () => false, allowsAddress: () => false };

/** Parses every entry; the message of a failure names the entry by `field[index]`. */
export function parseHostAllowlist(entries: readonly string[], field = 'allow_hosts'): AllowlistParse {
  const parsed: Entry[] = [];
  for (const [i, raw] of entries.entries()) {
    const entry = parseEntry(raw);
    if (!entry) {
      return { ok: false, message: `${field}[${i}]: "${raw}" is not a hostname, host:port, IP address or CIDR range` };
    }
    parsed.push(entry);
  }
  const portMatches = (want: number | null, port: number): boolean => want === null || want === port;
  const allowlist: HostAllowlist = {
    allowsName: (hostname, port) =>
      parsed.some((e) => e.kind === 'name' && e.hostname === hostname && portMatches(e.port, port)),
    allowsAddress: (ip, port) => {
      const plain = unmapIpv4(ip);
      return parsed.some(
        (e) => e.kind === 'range' && (cidrContains(e.range, ip) || cidrContains(e.range, plain)) && portMatches(e.port, port),
      );
    },
  };
  return { ok: true, value: allowlist };
}

/** The form hosts are compared in: lower case, no IPv6 brackets, no trailing dot. */
export function normalizeHostname(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

function parseEntry(raw: string): Entry | null {
  const text = raw.trim().toLowerCase();
  if (text === '') return null;
  if (text.includes('/')) {
    const range = parseCidr(text);
    return range ? { kind: 'range', range, port: null } : null;
  }
  let host = text;
  let portText: string | null = null;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2] ?? null;
  } else if (!isIPv6(text)) {
    const withPort = /^([^:]+):(\d+)$/.exec(text);
    if (withPort) {
      host = withPort[1] ?? '';
      portText = withPort[2] ?? null;
    }
  }
  const port = portText === null ? null : Number(portText);
  if (port !== null && (port < 1 || port > 65_535)) return null;
  const ip = parseIp(host);
  if (ip) return { kind: 'range', range: { family: ip.family, base: ip.value, prefix: ip.family === 4 ? 32 : 128 }, port };
  if (bracketed) return null;
  // The WHATWG URL parser gives hosts in their ASCII (punycode) form; entries are compared in it too.
  const hostname = normalizeHostname(domainToASCII(host));
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(hostname)) return null;
  return { kind: 'name', hostname, port };
}
