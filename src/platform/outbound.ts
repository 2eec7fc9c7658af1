// Outbound requests to URLs that API callers and end users give (webhook receivers, browser push
// endpoints): never to loopback, private, carrier-grade, link-local, unique-local or unspecified
// addresses, unless OUTBOUND_ALLOWED_HOSTS names them. Checked twice: when the URL is registered (a
// literal address), and when connecting, after DNS resolution (a name that resolves to such an address,
// including one that changes its answer between the two: DNS rebinding).
import dns, { type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** The code of a refused connection: classified as permanent, since retrying reaches the same address. */
export const FORBIDDEN_ADDRESS = 'EFORBIDDENADDRESS';

const forbidden = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", including the unspecified 0.0.0.0
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  forbidden.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible addresses
  ['64:ff9b::', 96], // NAT64: an IPv4 address behind a translator
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const)
  forbidden.addSubnet(network, prefix, 'ipv6');

/** The 16 bytes of an IPv6 address (valid per isIP), including one that ends in a dotted quad. */
function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase().split('%')[0]!;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d, in any spelling) as the IPv4 address it is; others as given. */
export function normaliseAddress(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '');
  if (isIP(bare) !== 6) return bare;
  const bytes = ipv6Bytes(bare);
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12).join('.') : bare;
}

/** Whether an IP address is one outbound requests never reach (unless allowed). Not an IP: false. */
export function isForbiddenAddress(address: string): boolean {
  const ip = normaliseAddress(address);
  const family = isIP(ip);
  if (family === 0) return false;
  return forbidden.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** Names that mean this machine without asking DNS. */
const isLocalName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

const canonicalHost = (host: string) =>
  host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');

/** An entry of OUTBOUND_ALLOWED_HOSTS that is not a host, IP or CIDR; undefined when it is fine. */
export function allowedHostProblem(entry: string): string | undefined {
  const [network, prefix, ...rest] = entry.split('/');
  if (prefix !== undefined) {
    const family = isIP(network!);
    const bits = Number(prefix);
    if (rest.length > 0 || family === 0 || !/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128))
      return `"${entry}" is not a CIDR such as 10.1.0.0/16`;
    return undefined;
  }
  if (isIP(canonicalHost(entry)) !== 0) return undefined;
  if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/i.test(entry))
    return `"${entry}" is not a host name, IP address or CIDR`;
  return undefined;
}

/** Resolves a name to every address it has (dns.lookup by default; tests give their own). */
export type Resolver = (hostname: string, family?: number) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname, family) =>
  dns.promises.lookup(hostname, { all: true, ...(family ? { family } : {}) });

/** Why a URL may not be used; undefined when it may (a name is checked again when connecting). */
export type UrlProblem = string | undefined;

export interface OutboundPolicy {
  /** The exceptions, as configured (for the log and the reference). */
  readonly allowedHosts: readonly string[];
  /** At registration: refuses a literal forbidden address or a local name that is not allowed. */
  checkUrl(url: string): UrlProblem;
  /** Whether a connection to this host, which resolved to this address, may go ahead. */
  permits(host: string, address: string): boolean;
  /** A `lookup` for sockets and agents: resolves, then refuses a forbidden address (FORBIDDEN_ADDRESS). */
  readonly lookup: LookupFunction;
  /** Agents whose connections go through `lookup`, for requests to user-supplied URLs. */
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
  /** An HTTPS agent with `lookup` and other TLS options (an extra CA); the caller destroys it. */
  httpsAgentWith(options: https.AgentOptions): https.Agent;
  close(): void;
}

/** The error a refused address raises: it names neither the host nor the address. */
export class ForbiddenAddressError extends Error {
  override name = 'ForbiddenAddressError';
  readonly code = FORBIDDEN_ADDRESS;
  constructor() {
    super('refused: the address is not public and not in OUTBOUND_ALLOWED_HOSTS');
  }
}

/**
 * The policy for `allowedHosts` (host names, IP addresses and CIDRs that are exceptions). A name listed
 * is allowed whatever it resolves to; an address or CIDR listed is allowed however it is reached.
 */
export function createOutboundPolicy(
  allowedHosts: readonly string[] = [],
  options: { resolve?: Resolver } = {},
): OutboundPolicy {
  const resolve = options.resolve ?? systemResolver;
  const allowedNames = new Set<string>();
  const allowedAddresses = new BlockList();
  for (const entry of allowedHosts) {
    const problem = allowedHostProblem(entry);
    if (problem) throw new Error(`OUTBOUND_ALLOWED_HOSTS: ${problem}`);
    const [network, prefix] = entry.split('/');
    if (prefix !== undefined) {
      const ip = normaliseAddress(network!);
      const family = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
      // An IPv4 CIDR written as mapped IPv6 (::ffff:10.0.0.0/104) is the IPv4 CIDR.
      const bits = isIP(network!) === 6 && family === 'ipv4' ? Number(prefix) - 96 : Number(prefix);
      allowedAddresses.addSubnet(ip, Math.max(0, bits), family);
      continue;
    }
    const host = canonicalHost(entry);
    const ip = normaliseAddress(host);
    if (isIP(ip) !== 0) allowedAddresses.addAddress(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');
    else allowedNames.add(host);
  }
  const addressAllowed = (address: string) => {
    const ip = normaliseAddress(address);
    const family = isIP(ip);
    return family !== 0 && allowedAddresses.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  };

  const permits = (host: string, address: string) =>
    allowedNames.has(canonicalHost(host)) || addressAllowed(address) || !isForbiddenAddress(address);

  function checkUrl(url: string): UrlProblem {
    let host: string;
    try {
      host = canonicalHost(new URL(url).hostname);
    } catch {
      return 'must be a URL';
    }
    if (allowedNames.has(host)) return undefined;
    // The URL parser already turned 2130706433, 0x7f.1 and 0 into dotted quads.
    if (isIP(host) !== 0)
      return permits(host, host) ? undefined : 'must not point at a private, loopback or link-local address';
    if (isLocalName(host)) return 'must not point at this machine (localhost)';
    return undefined;
  }

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    const family = typeof lookupOptions.family === 'number' ? lookupOptions.family : undefined;
    const answer = (addresses: LookupAddress[]) => {
      // Every address must be allowed: the socket may try any of them (happy eyeballs).
      if (addresses.length === 0 || addresses.some((a) => !permits(hostname, a.address))) {
        callback(new ForbiddenAddressError(), '', 0);
      } else if (lookupOptions.all) {
        callback(null, addresses);
      } else {
        callback(null, addresses[0]!.address, addresses[0]!.family);
      }
    };
    // A local name is refused before asking anyone, unless it is allowed.
    if (isLocalName(canonicalHost(hostname)) && !allowedNames.has(canonicalHost(hostname))) {
      callback(new ForbiddenAddressError(), '', 0);
      return;
    }
    resolve(hostname, family).then(answer, (error: unknown) =>
      callback(error as NodeJS.ErrnoException, '', 0),
    );
  };

  const httpAgent = new http.Agent({ keepAlive: true, lookup });
  const httpsAgent = new https.Agent({ keepAlive: true, lookup });
  return {
    allowedHosts: [...allowedHosts],
    checkUrl,
    permits,
    lookup,
    httpAgent,
    httpsAgent,
    httpsAgentWith: (agentOptions) => new https.Agent({ keepAlive: true, ...agentOptions, lookup }),
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/**
 * Before a request to a stored URL: a literal address never reaches `lookup` (sockets skip it for IPs),
 * so it is checked here; a URL stored before an exception was removed is refused too.
 */
export function assertOutboundUrl(policy: OutboundPolicy, url: string): void {
  if (policy.checkUrl(url) !== undefined) throw new ForbiddenAddressError();
}
