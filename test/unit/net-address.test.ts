// Which destinations an outbound fetch may reach: the address table, IPv6 forms that carry IPv4,
// and the operator's allowlist.
import { describe, expect, it } from 'vitest';
import {
  classifyAddress,
  describeVerdict,
  parseCidr,
  parseHostAllowlist,
  parseIp,
  type AddressClass,
  type HostAllowlist,
  type IpAddress,
} from '../../runtime/net/index.js';

function ip(text: string): IpAddress {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`not an address: ${text}`);
  return parsed;
}

const classOf = (text: string): AddressClass | null => classifyAddress(ip(text))?.class ?? null;

describe('parseIp', () => {
  it.each([
    ['127.0.0.1', 4, '127.0.0.1'],
    ['::1', 6, '::1'],
    ['[::1]', 6, '::1'],
    ['fe80::1%eth0', 6, 'fe80::1'],
    ['2001:DB8:0:0:0:0:0:1', 6, '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', 6, '2001:db8:0:1::1'],
    ['::ffff:7f00:1', 6, '::ffff:127.0.0.1'],
    ['::ffff:10.1.2.3', 6, '::ffff:10.1.2.3'],
    ['1:2:3:4:5:6:7.8.9.10', 6, '1:2:3:4:5:6:708:90a'],
    ['::', 6, '::'],
  ])('reads %s as IPv%d %s', (text, family, canonical) => {
    expect(ip(text)).toMatchObject({ family, text: canonical });
  });

  it.each(['example.com', '127.1', '0x7f.0.0.1', '256.0.0.1', '1::2::3', '', '::ffff:1.2.3'])('refuses %j', (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe('classifyAddress', () => {
  const table: Array<[string, AddressClass | null]> = [
    // IPv4
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['100.63.255.255', null],
    ['100.64.0.1', 'cgnat'],
    ['100.100.100.200', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.0', null],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['169.254.0.1', 'link_local'],
    ['172.15.255.255', null],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', null],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['8.8.8.8', null],
    ['93.184.216.34', null],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['fe80::1', 'link_local'],
    ['febf::1', 'link_local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378::1', 'reserved'], // Teredo
    ['100::1', 'reserved'],
    ['64:ff9b:1::1', 'reserved'],
    ['4000::1', 'reserved'], // outside 2000::/3: unallocated
    ['2606:4700:4700::1111', null],
    ['2a00:1450:4001:80b::200e', null],
    // IPv6 forms of IPv4 addresses
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:100.64.0.1', 'cgnat'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:255.255.255.255', 'broadcast'],
    ['::ffff:8.8.8.8', null],
    ['::127.0.0.1', 'loopback'], // IPv4-compatible
    ['::10.0.0.1', 'private'],
    ['::8.8.8.8', 'reserved'], // compatible form is deprecated even for public IPv4
    ['64:ff9b::7f00:1', 'loopback'], // NAT64
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::808:808', null],
    ['2002:7f00:1::', 'loopback'], // 6to4
    ['2002:c0a8:101::1', 'private'],
    ['2002:808:808::1', null],
  ];

  it.each(table)('%s → %s', (text, expected) => {
    expect(classOf(text)).toBe(expected);
  });

  it('describes an IPv6 form by the IPv4 address it carries', () => {
    const verdict = classifyAddress(ip('64:ff9b::a00:1'));
    expect(verdict && describeVerdict(verdict)).toBe('private address 64:ff9b::a00:1 (IPv4 10.0.0.1)');
    const loop = classifyAddress(ip('127.0.0.1'));
    expect(loop && describeVerdict(loop)).toBe('loopback address 127.0.0.1');
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { family: 4, prefix: 8 }],
    ['10.1.2.3/8', { family: 4, prefix: 8, base: 0x0a000000n }],
    ['fd00::/8', { family: 6, prefix: 8 }],
    ['127.0.0.1', { family: 4, prefix: 32 }],
  ])('reads %s', (text, expected) => {
    expect(parseCidr(text)).toMatchObject(expected);
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', 'example.com/8'])('refuses %s', (text) => {
    expect(parseCidr(text)).toBeNull();
  });
});

describe('parseHostAllowlist', () => {
  function allowlist(entries: string[]): HostAllowlist {
    const parsed = parseHostAllowlist(entries);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.value;
  }

  it('a hostname entry admits that name on any port, and nothing by address', () => {
    const list = allowlist(['Internal.Example.']);
    expect(list.allowsName('internal.example', 80)).toBe(true);
    expect(list.allowsName('internal.example', 8080)).toBe(true);
    expect(list.allowsName('other.example', 80)).toBe(false);
    expect(list.allowsName('sub.internal.example', 80)).toBe(false);
    expect(list.allowsAddress(ip('10.0.0.1'), 80)).toBe(false);
  });

  it('a host:port entry admits that name on that port only', () => {
    const list = allowlist(['svc.internal:8080']);
    expect(list.allowsName('svc.internal', 8080)).toBe(true);
    expect(list.allowsName('svc.internal', 8081)).toBe(false);
  });

  it('an IP entry admits that address on any port, in its IPv4-mapped form too', () => {
    const list = allowlist(['127.0.0.1']);
    expect(list.allowsAddress(ip('127.0.0.1'), 1234)).toBe(true);
    expect(list.allowsAddress(ip('::ffff:127.0.0.1'), 1234)).toBe(true);
    expect(list.allowsAddress(ip('127.0.0.2'), 1234)).toBe(false);
    expect(list.allowsName('127.0.0.1', 1234)).toBe(false);
  });

  it('an ip:port entry admits that address on that port only', () => {
    const list = allowlist(['127.0.0.1:8080', '[::1]:9090']);
    expect(list.allowsAddress(ip('127.0.0.1'), 8080)).toBe(true);
    expect(list.allowsAddress(ip('127.0.0.1'), 8081)).toBe(false);
    expect(list.allowsAddress(ip('::1'), 9090)).toBe(true);
    expect(list.allowsAddress(ip('::1'), 8080)).toBe(false);
  });

  it('a CIDR entry admits every address inside it', () => {
    const list = allowlist(['10.0.0.0/8', 'fd00::/8', '::1']);
    expect(list.allowsAddress(ip('10.200.3.4'), 443)).toBe(true);
    expect(list.allowsAddress(ip('11.0.0.1'), 443)).toBe(false);
    expect(list.allowsAddress(ip('fd12::1'), 443)).toBe(true);
    expect(list.allowsAddress(ip('fc00::1'), 443)).toBe(false);
    expect(list.allowsAddress(ip('::1'), 443)).toBe(true);
  });

  it('an internationalised hostname entry matches the ASCII form URLs carry', () => {
    const list = allowlist(['bücher.example']);
    expect(list.allowsName(new URL('http://bücher.example/').hostname, 80)).toBe(true);
  });

  it.each(['', 'http://example.com', 'example.com:0', 'example.com:70000', '10.0.0.0/40', '[example.com]:80', 'a b'])(
    'refuses the entry %j and names it',
    (entry) => {
      const parsed = parseHostAllowlist(['ok.example', entry], 'config.http_fetch.allow_hosts');
      expect(parsed).toEqual({ ok: false, message: expect.stringContaining(`config.http_fetch.allow_hosts[1]: "${entry}"`) });
    },
  );
});
