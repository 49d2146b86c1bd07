import ipaddr from 'ipaddr.js';

/**
 * Which network addresses deliveries and postbacks may connect to (README
 * "Setting up sources, partners and routes"; docs/decisions/0006-outbound-requests.md). Pure: the agents in
 * `agents.ts` apply it to the address a connection is actually about to use.
 */
export interface DestinationPolicy {
  /** `ALLOW_PRIVATE_DESTINATIONS`: also allow loopback, private, link-local… (tests, local demos). */
  allowPrivate: boolean;
}

/** The error code of a refused destination; `classify()` turns it into a rejection. */
export const DESTINATION_REFUSED = 'ERR_DESTINATION_REFUSED';

/**
 * Cloud metadata services. They are refused even with `allowPrivate`: no
 * partner lives there, and a partner URL that reaches one (directly or by DNS)
 * would hand the worker's cloud credentials to whoever controls that URL.
 */
const METADATA_ADDRESSES = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle… instance metadata
  '169.254.170.2', // AWS ECS task metadata and credentials
  '169.254.170.23', // AWS EKS Pod Identity agent
  '100.100.100.200', // Alibaba Cloud
  'fd00:ec2::254', // AWS instance metadata over IPv6
  'fd00:ec2::23', // AWS EKS Pod Identity agent over IPv6
]);

/** Words for ipaddr.js' range names, as they appear in a refusal. */
const RANGE_WORDS: Record<string, string> = {
  metadata: 'a cloud metadata address',
  unspecified: 'an unspecified address (0.0.0.0 or ::, which reaches this host)',
  broadcast: 'a broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a shared (carrier-grade NAT, RFC 6598) address',
  private: 'a private address (RFC 1918)',
  uniqueLocal: 'a private address (RFC 4193 unique local)',
  deprecatedSiteLocal: 'a site-local address',
  ipv4Mapped: 'an IPv4-mapped IPv6 address',
  ipv4Compatible: 'an IPv4-compatible IPv6 address',
  reserved: 'a reserved or documentation address',
  rfc6052: 'a NAT64 address',
  rfc6145: 'an IPv4-translated address',
  '6to4': 'a 6to4 address',
  teredo: 'a Teredo address',
  invalid: 'not a valid IP address',
  unix: 'a Unix socket',
};

export type AddressVerdict =
  | { allowed: true; address: string }
  | {
      allowed: false;
      /** The address, normalised (`::ffff:7f00:1` for `::ffff:127.0.0.1`). */
      address: string;
      /** ipaddr.js' range name (`loopback`, `private`, `ipv4Mapped`, …) or `metadata`, `ipv4Compatible`, `invalid`. */
      range: string;
      /** For IPv6 forms that carry an IPv4 address: that address. */
      embeddedIPv4?: string;
      /** `a loopback address`, … */
      description: string;
    };

/**
 * Whether a connection to `address` (an IP address as a resolver or a URL
 * gives it) is allowed. Everything that ipaddr.js does not call `unicast` is
 * refused without `allowPrivate`: loopback, RFC 1918, RFC 4193, link-local,
 * CGNAT, unspecified, broadcast, multicast, reserved and documentation
 * ranges, and IPv6 forms that wrap an IPv4 address (IPv4-mapped `::ffff:0:0/96`,
 * IPv4-compatible `::/96`, 6to4, Teredo, the NAT64 local-use prefix). The
 * well-known NAT64 prefix `64:ff9b::/96` is judged by the IPv4 address it
 * carries, so IPv6-only hosts behind DNS64 can still reach public partners.
 * Cloud metadata addresses are refused always.
 */
export function checkAddress(address: string, policy: DestinationPolicy): AddressVerdict {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return refusal(address, 'invalid');
  }
  const canonical = ip.toString();
  if (ip.kind() === 'ipv4') {
    if (METADATA_ADDRESSES.has(canonical)) return refusal(canonical, 'metadata');
    if (policy.allowPrivate) return { allowed: true, address: canonical };
    const range = ip.range();
    return range === 'unicast' ? { allowed: true, address: canonical } : refusal(canonical, range);
  }

  const v6 = ip as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  // A wrapped IPv4 address reaches that IPv4 host: metadata stays refused in every wrapping.
  if (METADATA_ADDRESSES.has(canonical)) return refusal(canonical, 'metadata');
  if (embedded && METADATA_ADDRESSES.has(embedded)) return refusal(canonical, 'metadata', embedded);
  if (policy.allowPrivate) return { allowed: true, address: canonical };
  const range = v6.range();
  if (range === 'rfc6052' && embedded) {
    const inner = checkAddress(embedded, policy);
    return inner.allowed
      ? { allowed: true, address: canonical }
      : { ...inner, address: canonical, range: 'rfc6052', embeddedIPv4: embedded };
  }
  if (range === 'unicast' && embedded) return refusal(canonical, 'ipv4Compatible', embedded);
  if (range === 'unicast') return { allowed: true, address: canonical };
  return refusal(canonical, range, embedded);
}

/**
 * The check that can be made on a URL alone (when it is saved, or before a
 * request): its scheme, and its host when that is an IP literal in any of the
 * forms a URL parser accepts (`2130706433`, `0x7f.1`, `0177.0.0.1`,
 * `[::ffff:127.0.0.1]` all normalise to a loopback address). A host name
 * passes here: what it resolves to is checked at connect time, every time.
 */
export function checkUrl(
  url: string,
  policy: DestinationPolicy,
): { allowed: true; host: string } | { allowed: false; host: string; reason: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { allowed: false, host: '', reason: 'not a valid URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { allowed: false, host: parsed.hostname, reason: `${parsed.protocol} URLs are not delivered to` };
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  // The URL parser has already turned every numeric IPv4 form into a dotted quad.
  if (!ipaddr.isValid(host)) return { allowed: true, host };
  const verdict = checkAddress(host, policy);
  return verdict.allowed ? { allowed: true, host } : { allowed: false, host, reason: refusalMessage(verdict) };
}

/** A connection that the destination policy refused; `code` is `ERR_DESTINATION_REFUSED`. */
export class DestinationRefusedError extends Error {
  readonly code = DESTINATION_REFUSED;
  constructor(
    readonly verdict: Extract<AddressVerdict, { allowed: false }>,
    /** The host name that resolved to the address, when it was not an address itself. */
    readonly hostname?: string,
  ) {
    super(refusalMessage(verdict, hostname));
    this.name = 'DestinationRefusedError';
  }
}

/**
 * `destination 127.0.0.1 is a loopback address; set ALLOW_PRIVATE_DESTINATIONS=true to allow it`,
 * or `destination partner.example resolved to 10.0.0.5, a private address (RFC 1918); …`.
 */
export function refusalMessage(verdict: Extract<AddressVerdict, { allowed: false }>, hostname?: string): string {
  const what =
    verdict.embeddedIPv4 && verdict.range !== 'metadata'
      ? `${describe(verdict.range)} (for ${verdict.embeddedIPv4})`
      : describe(verdict.range);
  const subject =
    hostname && hostname !== verdict.address
      ? `destination ${hostname} resolved to ${verdict.address}, ${what}`
      : `destination ${verdict.address} is ${what}`;
  if (verdict.range === 'metadata') return `${subject}; cloud metadata services are never delivered to`;
  if (verdict.range === 'invalid') return subject;
  return `${subject}; set ALLOW_PRIVATE_DESTINATIONS=true to allow it`;
}

function refusal(address: string, range: string, embeddedIPv4?: string): Extract<AddressVerdict, { allowed: false }> {
  return {
    allowed: false,
    address,
    range,
    ...(embeddedIPv4 ? { embeddedIPv4 } : {}),
    description: describe(range),
  };
}

function describe(range: string): string {
  return RANGE_WORDS[range] ?? `a special-purpose address (${range})`;
}

/** `::/96` other than `::` and `::1`: the deprecated IPv4-compatible form (RFC 4291 §2.5.5.1). */
function isIPv4Compatible(ip: ipaddr.IPv6): boolean {
  const p = ip.parts;
  return p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || (p[7] ?? 0) > 1);
}

function isWellKnownNat64(ip: ipaddr.IPv6): boolean {
  const p = ip.parts;
  return p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((x) => x === 0);
}

/** The IPv4 address in the low 32 bits of IPv4-mapped, IPv4-compatible and well-known-prefix NAT64 addresses. */
function embeddedIPv4(ip: ipaddr.IPv6): string | undefined {
  if (ip.range() !== 'ipv4Mapped' && !isWellKnownNat64(ip) && !isIPv4Compatible(ip)) return undefined;
  const [hi = 0, lo = 0] = ip.parts.slice(6);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}
