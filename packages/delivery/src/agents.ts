import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkAddress, DestinationRefusedError, type DestinationPolicy } from './destination.js';

/** The agents every outbound request goes through: keep-alive, and guarded by the destination policy. */
export interface DeliveryAgents {
  http: http.Agent;
  https: https.Agent;
}

export interface AgentsOptions extends DestinationPolicy {
  /**
   * The resolver (default `dns.lookup`). Tests inject one to make a host name
   * resolve to a chosen address; a request's own `lookup` (got's `dnsLookup`)
   * takes precedence. Whatever resolves, the policy judges its answer.
   */
  lookup?: LookupFunction;
  /** How long an idle keep-alive socket is kept (default 4 s, under the 5 s most servers allow). */
  idleSocketMs?: number;
}

/**
 * Keep-alive HTTP and HTTPS agents that refuse, at connect time, any address
 * the policy does not allow: an IP-literal host before the socket is made, and
 * every address a host name resolves to (all of them, when Happy Eyeballs asks
 * for all) before one is dialled. A pooled socket is reused only for the same
 * host and port and stays connected to the address that was checked, so DNS
 * rebinding after the check cannot redirect it. Build them once per process.
 */
export function createAgents(options: AgentsOptions): DeliveryAgents {
  const agentOptions = {
    keepAlive: true,
    scheduling: 'lifo' as const,
    // Node applies this to idle pooled sockets only (and shortens it further
    // to a server's `Keep-Alive: timeout=` hint); request timeouts are got's.
    timeout: options.idleSocketMs ?? 4000,
  };
  return {
    http: new GuardedHttpAgent(agentOptions, options),
    https: new GuardedHttpsAgent(agentOptions, options),
  };
}

/** Closes the agents' pooled sockets (at shutdown). */
export function destroyAgents(agents: DeliveryAgents): void {
  agents.http.destroy();
  agents.https.destroy();
}

/**
 * What both guarded agents do on connect: refuse an IP-literal destination
 * the policy forbids, or connect with a lookup that checks every resolved
 * address.
 */
function connectGuarded<O extends http.ClientRequestArgs>(
  options: O,
  guard: AgentsOptions,
  callback: ((err: Error | null, stream: Duplex) => void) | undefined,
  connect: (options: O, callback?: (err: Error | null, stream: Duplex) => void) => Duplex | null | undefined,
): Duplex | null | undefined {
  const refused = refuseLiteral(options, guard);
  if (refused) return failConnection(refused, callback);
  return connect({ ...options, lookup: guardLookup(options.lookup ?? guard.lookup, guard) }, callback);
}

class GuardedHttpAgent extends http.Agent {
  constructor(
    agentOptions: http.AgentOptions,
    private readonly guard: AgentsOptions,
  ) {
    super(agentOptions);
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    return connectGuarded(options, this.guard, callback, (guarded, cb) => super.createConnection(guarded, cb));
  }
}

class GuardedHttpsAgent extends https.Agent {
  constructor(
    agentOptions: https.AgentOptions,
    private readonly guard: AgentsOptions,
  ) {
    super(agentOptions);
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    return connectGuarded(options, this.guard, callback, (guarded, cb) => super.createConnection(guarded, cb));
  }
}

/**
 * A host that is an IP address is connected to without any lookup, so it is
 * judged here. (got hands the agent the URL's host with IPv6 brackets removed,
 * and the URL parser has already normalised `2130706433`, `0x7f.1`… to
 * dotted quads; anything else goes through the guarded lookup.)
 */
function refuseLiteral(options: http.ClientRequestArgs, policy: DestinationPolicy): Error | undefined {
  if (options.socketPath !== undefined && !policy.allowPrivate) {
    return new DestinationRefusedError({
      allowed: false,
      address: options.socketPath,
      range: 'unix',
      description: 'a Unix socket',
    });
  }
  const host = (options.host ?? options.hostname ?? '').replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(host) === 0) return undefined;
  const verdict = checkAddress(host, policy);
  return verdict.allowed ? undefined : new DestinationRefusedError(verdict);
}

/** Reports a refused connection the way the agent reports any failure to connect. */
function failConnection(
  error: Error,
  callback?: (err: Error | null, stream: Duplex) => void,
): Duplex | null | undefined {
  if (callback) {
    // http.Agent's createSocket passes a once-only callback and accepts an undefined socket.
    callback(error, undefined as unknown as Duplex);
    return undefined;
  }
  const socket = new net.Socket();
  process.nextTick(() => socket.destroy(error));
  return socket;
}

/**
 * Wraps a resolver so that its answer is judged before net dials it: one
 * refused address (of several, with `all`) refuses the connection, since
 * Happy Eyeballs would try them all.
 */
export function guardLookup(inner: LookupFunction | undefined, policy: DestinationPolicy): LookupFunction {
  const resolve: LookupFunction = inner ?? dns.lookup;
  return (hostname, options, callback) => {
    resolve(hostname, options, (err, address, family) => {
      if (err) return callback(err, address, family);
      for (const candidate of Array.isArray(address) ? address.map((a) => a.address) : [address]) {
        const verdict = checkAddress(candidate, policy);
        if (!verdict.allowed) return callback(new DestinationRefusedError(verdict, hostname), address, family);
      }
      callback(null, address, family);
    });
  };
}
