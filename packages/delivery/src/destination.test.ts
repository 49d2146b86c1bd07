import { checkAddress, checkUrl, DestinationRefusedError, refusalMessage, type AddressVerdict } from './destination';

const strict = { allowPrivate: false };
const open = { allowPrivate: true };
const refused = (v: AddressVerdict) => (v.allowed ? undefined : v);

describe('checkAddress', () => {
  it.each([
    // address, range it is refused as
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456:789a::1', 'uniqueLocal'],
    ['169.254.1.1', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.254', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['2002:7f00:1::1', '6to4'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    ['64:ff9b:1::a00:1', 'rfc6052'],
  ])('refuses %s (%s)', (address, range) => {
    expect(refused(checkAddress(address, strict))).toMatchObject({ allowed: false, range });
    expect(checkAddress(address, open).allowed).toBe(true);
  });

  it.each([
    ['169.254.169.254'], // AWS, GCP, Azure… instance metadata
    ['169.254.170.2'], // AWS ECS task credentials
    ['100.100.100.200'], // Alibaba Cloud
    ['fd00:ec2::254'], // AWS over IPv6
    ['fd00:0ec2:0000:0000:0000:0000:0000:0254'], // the same, written out
    ['::ffff:169.254.169.254'], // the IPv4 one, IPv4-mapped
    ['::ffff:a9fe:a9fe'], // and in hex
    ['64:ff9b::a9fe:a9fe'], // and through NAT64
  ])('refuses the metadata address %s, even when private destinations are allowed', (address) => {
    for (const policy of [strict, open]) {
      const v = refused(checkAddress(address, policy));
      expect(v).toMatchObject({ range: 'metadata' });
      expect(refusalMessage(v!)).toMatch(/cloud metadata services are never delivered to$/);
    }
  });

  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['0:0:0:0:0:ffff:7f00:1', '127.0.0.1'],
    ['::FFFF:7F00:0001', '127.0.0.1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::ffff:0a00:0001', '10.0.0.1'],
    // An IPv4-mapped form of a public address is refused too: nothing resolves to one honestly.
    ['::ffff:8.8.8.8', '8.8.8.8'],
  ])('refuses the IPv4-mapped IPv6 address %s (of %s)', (address, embedded) => {
    expect(refused(checkAddress(address, strict))).toMatchObject({
      range: 'ipv4Mapped',
      address: expect.stringMatching(/^::ffff:/),
      embeddedIPv4: embedded,
    });
  });

  it('refuses the deprecated IPv4-compatible form ::a.b.c.d', () => {
    expect(refused(checkAddress('::7f00:1', strict))).toMatchObject({
      range: 'ipv4Compatible',
      embeddedIPv4: '127.0.0.1',
    });
    expect(checkAddress('::127.0.0.1', strict).allowed).toBe(false);
  });

  it('judges the well-known NAT64 prefix by the IPv4 address it carries', () => {
    expect(checkAddress('64:ff9b::808:808', strict).allowed).toBe(true); // 8.8.8.8 through DNS64
    expect(refused(checkAddress('64:ff9b::7f00:1', strict))).toMatchObject({
      range: 'rfc6052',
      embeddedIPv4: '127.0.0.1',
    });
  });

  it.each([['8.8.8.8'], ['1.1.1.1'], ['93.184.215.14'], ['2606:4700:4700::1111'], ['2a00:1450:4001:82a::200e']])(
    'allows the public address %s',
    (address) => {
      expect(checkAddress(address, strict)).toEqual({ allowed: true, address });
    },
  );

  it('refuses what is not an IP address', () => {
    expect(refused(checkAddress('localhost', strict))).toMatchObject({ range: 'invalid' });
    expect(refused(checkAddress('localhost', open))).toMatchObject({ range: 'invalid' });
  });
});

describe('checkUrl', () => {
  it.each([
    ['http://2130706433/', '127.0.0.1'], // decimal
    ['http://017700000001/', '127.0.0.1'], // octal
    ['http://0x7f000001/', '127.0.0.1'], // hex
    ['http://0x7f.1/', '127.0.0.1'], // hex, short form
    ['http://0177.0.0.1/', '127.0.0.1'], // octal first octet
    ['http://127.1/', '127.0.0.1'], // two-part form
    ['http://0/', '0.0.0.0'],
    ['http://0x0a.0.0.1/', '10.0.0.1'],
    ['http://3232235777/', '192.168.1.1'],
    ['http://2852039166/latest/meta-data/', '169.254.169.254'],
    ['http://[::1]:8080/', '::1'],
    ['http://[::]/', '::'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[::ffff:7f00:1]/', '::ffff:7f00:1'],
    ['https://[fd00:ec2::254]/', 'fd00:ec2::254'],
    ['http://127.0.0.1./', '127.0.0.1'],
  ])('refuses %s (host %s)', (url, host) => {
    const verdict = checkUrl(url, strict);
    expect(verdict).toMatchObject({ allowed: false, host });
  });

  it('names the address and the way out in its reason', () => {
    expect(checkUrl('http://2130706433/leads', strict)).toEqual({
      allowed: false,
      host: '127.0.0.1',
      reason: 'destination 127.0.0.1 is a loopback address; set ALLOW_PRIVATE_DESTINATIONS=true to allow it',
    });
    expect(checkUrl('http://[::ffff:127.0.0.1]/', strict)).toMatchObject({
      reason:
        'destination ::ffff:7f00:1 is an IPv4-mapped IPv6 address (for 127.0.0.1); set ALLOW_PRIVATE_DESTINATIONS=true to allow it',
    });
  });

  it('lets host names through: what they resolve to is checked at connect time', () => {
    expect(checkUrl('https://partner.example/leads', strict)).toEqual({ allowed: true, host: 'partner.example' });
    expect(checkUrl('http://localhost:3000/', strict)).toEqual({ allowed: true, host: 'localhost' });
  });

  it('allows private IP literals with allowPrivate, and only http(s) URLs at all', () => {
    expect(checkUrl('http://2130706433/', open)).toEqual({ allowed: true, host: '127.0.0.1' });
    expect(checkUrl('http://8.8.8.8/', strict).allowed).toBe(true);
    expect(checkUrl('ftp://8.8.8.8/', open)).toMatchObject({ allowed: false });
    expect(checkUrl('file:///etc/passwd', open)).toMatchObject({ allowed: false });
    expect(checkUrl('not a url', open)).toMatchObject({ allowed: false });
  });
});

describe('DestinationRefusedError', () => {
  it('carries ERR_DESTINATION_REFUSED and names the host name that resolved to the address', () => {
    const verdict = refused(checkAddress('10.1.2.3', strict))!;
    const err = new DestinationRefusedError(verdict, 'partner.example');
    expect(err.code).toBe('ERR_DESTINATION_REFUSED');
    expect(err.message).toBe(
      'destination partner.example resolved to 10.1.2.3, a private address (RFC 1918); set ALLOW_PRIVATE_DESTINATIONS=true to allow it',
    );
  });
});
