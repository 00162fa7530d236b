// IP addresses as numbers, CIDR ranges, and the classification that decides which destinations an
// outbound fetch may reach. Everything that is not global unicast gets a class and is refused by
// default: the allowlist is the only way in.
//
// IPv6 forms that carry an IPv4 address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64
// 64:ff9b::/96, 6to4 2002::/16) are classified by the IPv4 address inside, because that is where
// the packets end up. IPv6 outside 2000::/3 is unallocated and refused as reserved.
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  readonly family: 4 | 6;
  /** 32 bits for IPv4, 128 for IPv6. */
  readonly value: bigint;
  /** Canonical text: dotted quad, or RFC 5952 compressed IPv6 (no zone). */
  readonly text: string;
}

export interface Cidr {
  readonly family: 4 | 6;
  readonly base: bigint;
  readonly prefix: number;
}

export const ADDRESS_CLASSES = [
  'unspecified',
  'loopback',
  'private',
  'link_local',
  'metadata',
  'cgnat',
  'multicast',
  'broadcast',
  'reserved',
] as const;
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

/** Why an address is not a public destination; `embedded` is the IPv4 address an IPv6 form carries. */
export interface AddressVerdict {
  readonly class: AddressClass;
  readonly address: IpAddress;
  readonly embedded?: IpAddress;
}

const bits = (family: 4 | 6): number => (family === 4 ? 32 : 128);

/**
 * Parses an IPv4 dotted quad or an IPv6 address (brackets and a %zone are dropped). Only canonical
 * IPv4 is accepted: hosts taken from a URL are already normalised by the WHATWG parser (so
 * `0x7f.1` and `2130706433` arrive as `127.0.0.1`), and anything else is not an address.
 */
export function parseIp(input: string): IpAddress | null {
  let text = input;
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  if (isIPv4(text)) return ipv4(parseIpv4(text));
  if (isIPv6(text)) return ipv6(parseIpv6(text));
  return null;
}

function parseIpv4(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseIpv6(text: string): bigint {
  let head = text;
  let tail: bigint[] = [];
  // A trailing dotted quad stands for the last two groups.
  const lastColon = head.lastIndexOf(':');
  const quad = head.slice(lastColon + 1);
  if (quad.includes('.')) {
    const v4 = parseIpv4(quad);
    tail = [v4 >> 16n, v4 & 0xffffn];
    head = head.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groups = (s: string): bigint[] => (s === '' ? [] : s.split(':').map((g) => BigInt(`0x${g}`)));
  let all: bigint[];
  const gap = head.indexOf('::');
  if (gap === -1) {
    all = [...groups(head), ...tail];
  } else {
    const left = groups(head.slice(0, gap));
    const right = [...groups(head.slice(gap + 2)), ...tail];
    all = [...left, ...new Array<bigint>(8 - left.length - right.length).fill(0n), ...right];
  }
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

function ipv4(value: bigint): IpAddress {
  const text = [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  return { family: 4, value, text };
}

function ipv6(value: bigint): IpAddress {
  // RFC 5952 §5: a mapped address reads as the IPv4 address it is.
  if (value >> 32n === 0xffffn) return { family: 6, value, text: `::ffff:${ipv4(value & 0xffffffffn).text}` };
  const groups: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(Number((value >> s) & 0xffffn));
  // RFC 5952: the longest run of two or more zero groups (the first on a tie) becomes `::`.
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  const text =
    best.at === -1 ? hex(groups) : `${hex(groups.slice(0, best.at))}::${hex(groups.slice(best.at + best.len))}`;
  return { family: 6, value, text };
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). Null when malformed. */
export function parseCidr(input: string): Cidr | null {
  const slash = input.indexOf('/');
  const ip = parseIp(slash === -1 ? input : input.slice(0, slash));
  if (!ip) return null;
  const width = bits(ip.family);
  let prefix = width;
  if (slash !== -1) {
    const p = input.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > width) return null;
    prefix = Number(p);
  }
  return { family: ip.family, base: maskTo(ip.value, width, prefix), prefix };
}

function maskTo(value: bigint, width: number, prefix: number): bigint {
  const host = BigInt(width - prefix);
  return (value >> host) << host;
}

export function cidrContains(range: Cidr, ip: IpAddress): boolean {
  return range.family === ip.family && maskTo(ip.value, bits(ip.family), range.prefix) === range.base;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d); the address itself otherwise. */
export function unmapIpv4(ip: IpAddress): IpAddress {
  return ip.family === 6 && ip.value >> 32n === 0xffffn ? ipv4(ip.value & 0xffffffffn) : ip;
}

const range = (text: string): Cidr => {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`bad built-in range ${text}`);
  return cidr;
};

// First match wins, so the narrower ranges come before the ranges that hold them.
const IPV4_TABLE: ReadonlyArray<readonly [Cidr, AddressClass]> = [
  [range('0.0.0.0/32'), 'unspecified'],
  [range('0.0.0.0/8'), 'reserved'], // "this network"
  [range('10.0.0.0/8'), 'private'],
  [range('100.64.0.0/10'), 'cgnat'],
  [range('127.0.0.0/8'), 'loopback'],
  [range('169.254.169.254/32'), 'metadata'],
  [range('169.254.0.0/16'), 'link_local'],
  [range('172.16.0.0/12'), 'private'],
  [range('192.0.0.0/24'), 'reserved'], // IETF protocol assignments
  [range('192.0.2.0/24'), 'reserved'], // documentation
  [range('192.88.99.0/24'), 'reserved'], // 6to4 relay anycast
  [range('192.168.0.0/16'), 'private'],
  [range('198.18.0.0/15'), 'reserved'], // benchmarking
  [range('198.51.100.0/24'), 'reserved'], // documentation
  [range('203.0.113.0/24'), 'reserved'], // documentation
  [range('224.0.0.0/4'), 'multicast'],
  [range('255.255.255.255/32'), 'broadcast'],
  [range('240.0.0.0/4'), 'reserved'],
];

const IPV6_TABLE: ReadonlyArray<readonly [Cidr, AddressClass | null]> = [
  [range('::/128'), 'unspecified'],
  [range('::1/128'), 'loopback'],
  [range('64:ff9b:1::/48'), 'reserved'], // local-use NAT64
  [range('100::/64'), 'reserved'], // discard-only
  [range('2001:db8::/32'), 'reserved'], // documentation
  [range('2001::/23'), 'reserved'], // IETF protocol assignments, Teredo among them
  [range('fd00:ec2::254/128'), 'metadata'],
  [range('fc00::/7'), 'private'],
  [range('fe80::/10'), 'link_local'],
  [range('fec0::/10'), 'private'], // site-local, deprecated
  [range('ff00::/8'), 'multicast'],
  [range('2000::/3'), null], // global unicast
  [range('::/0'), 'reserved'], // unallocated
];

// IPv6 prefixes that carry an IPv4 address, and where it sits (bits from the right).
const EMBEDDING: ReadonlyArray<{ range: Cidr; shift: bigint; public: boolean }> = [
  { range: range('::ffff:0:0/96'), shift: 0n, public: true }, // mapped
  { range: range('64:ff9b::/96'), shift: 0n, public: true }, // NAT64
  { range: range('2002::/16'), shift: 80n, public: true }, // 6to4
  // Compatible (::a.b.c.d) is deprecated: nothing public uses it, so even a public IPv4 inside is refused.
  { range: range('::/96'), shift: 0n, public: false },
];

/** Why `ip` is not a public destination, or null when it is one. */
export function classifyAddress(ip: IpAddress): AddressVerdict | null {
  if (ip.family === 4) {
    const hit = IPV4_TABLE.find(([r]) => cidrContains(r, ip));
    return hit ? { class: hit[1], address: ip } : null;
  }
  // :: and ::1 fall inside ::/96 but are IPv6 addresses of their own, not IPv4 ones.
  if (ip.value > 1n) {
    for (const e of EMBEDDING) {
      if (!cidrContains(e.range, ip)) continue;
      const embedded = ipv4((ip.value >> e.shift) & 0xffffffffn);
      const inner = classifyAddress(embedded);
      if (inner) return { class: inner.class, address: ip, embedded };
      return e.public ? null : { class: 'reserved', address: ip, embedded };
    }
  }
  for (const [r, cls] of IPV6_TABLE) {
    if (cidrContains(r, ip)) return cls ? { class: cls, address: ip } : null;
  }
  return { class: 'reserved', address: ip };
}

const CLASS_WORDS: Record<AddressClass, string> = {
  unspecified: 'unspecified address',
  loopback: 'loopback address',
  private: 'private address',
  link_local: 'link-local address',
  metadata: 'cloud metadata address',
  cgnat: 'carrier-grade NAT address',
  multicast: 'multicast address',
  broadcast: 'broadcast address',
  reserved: 'reserved address',
};

/** `loopback address 127.0.0.1`, `private address ::ffff:a00:1 (IPv4 10.0.0.1)`. */
export function describeVerdict(v: AddressVerdict): string {
  // A mapped address already reads as its IPv4 address.
  const inner = v.embedded && !v.address.text.endsWith(v.embedded.text) ? ` (IPv4 ${v.embedded.text})` : '';
  return `${CLASS_WORDS[v.class]} ${v.address.text}${inner}`;
}
