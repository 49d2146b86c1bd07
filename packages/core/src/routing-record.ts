/**
 * The routing record: what the worker keeps in `leads.routing` (JSONB) about
 * a lead's routing — the decision (route, strategy, how many partners may
 * buy the lead, the candidates in order) and each candidate's fate. The
 * worker writes it and moves the lead forward from it; the operations, the
 * CLI and the lead views read it back. This file is its one definition: the
 * type, the JSON Schema of what is stored, the reader and the version
 * (docs/decisions/0021-pure-lifecycle-decisions.md).
 */
import { toFieldErrors, compile } from './validation.js';
import { PARTNER_DECISIONS, ROUTE_STRATEGIES, type PartnerDecision, type RouteStrategy } from './states.js';

/**
 * The version the worker writes. Records written before the field existed
 * have the shape of version 1 and are read as such. A change a reader of
 * the current version could misread (a field renamed, its meaning changed)
 * takes a new version; an optional field added does not (readers ignore
 * fields they do not know).
 */
export const ROUTING_RECORD_VERSION = 1;

/** What became of one candidate partner, and when. */
export interface PartnerDecisionEntry {
  partnerId: string;
  decision: PartnerDecision;
  /** Why it was skipped, rejected or dead-lettered (may quote the partner: stored as storable text). */
  reason?: string;
  /** ISO 8601 */
  at: string;
}

/** One ping of an auction (ADR 0032): the partner, what its answer came to, and how long it took. */
export interface PingEntry {
  partnerId: string;
  outcome: 'bid' | 'no_bid' | 'timeout' | 'error';
  /** Exact decimal text: its bid, or its fixed price for a partner without `ping`. */
  bid?: string;
  /** The partner's reference for the ping (its `referencePath`): sent back with the post. */
  reference?: string;
  /** Why it is no bid or an error (storable text). */
  reason?: string;
  /** False for a partner without `ping`, bidding its fixed price. */
  pinged: boolean;
  durationMs: number;
}

/** What the lead's routing left in `leads.routing`: the decision, and each candidate's fate. */
export interface RoutingRecord {
  version: typeof ROUTING_RECORD_VERSION;
  routeId?: string;
  routeName?: string;
  strategy?: RouteStrategy;
  /** How many partners may buy the lead (1: exclusive); 0 when no partner could be offered it. */
  maxDeliveries: number;
  /** Eligible partners at decision time, in the order to offer the lead. */
  candidates: string[];
  /** Why no partner could be offered, when none could. */
  reason?: string;
  decisions: PartnerDecisionEntry[];
  /** Routes passed over because their filters could not be evaluated, with the reason (ADR 0013). */
  filterErrors?: string[];
  /** An auction route's pings, in the route's list order (ADR 0032); `candidates` are then its bids, highest first. */
  pings?: PingEntry[];
}

const text = { type: 'string' } as const;

/** The record as stored: `version` is absent from records written before it existed (read as version 1). */
export const routingRecordSchema = {
  $id: 'https://leadrouter.dev/schemas/routing-record.json',
  title: 'RoutingRecord',
  type: 'object',
  required: ['maxDeliveries', 'candidates', 'decisions'],
  properties: {
    version: { const: ROUTING_RECORD_VERSION },
    routeId: text,
    routeName: text,
    strategy: { enum: ROUTE_STRATEGIES },
    maxDeliveries: { type: 'integer', minimum: 0 },
    candidates: { type: 'array', items: text },
    reason: text,
    decisions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['partnerId', 'decision', 'at'],
        properties: { partnerId: text, decision: { enum: PARTNER_DECISIONS }, reason: text, at: text },
      },
    },
    filterErrors: { type: 'array', items: text },
    pings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['partnerId', 'outcome', 'pinged', 'durationMs'],
        properties: {
          partnerId: text,
          outcome: { enum: ['bid', 'no_bid', 'timeout', 'error'] },
          bid: text,
          reference: text,
          reason: text,
          pinged: { type: 'boolean' },
          durationMs: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
} as const;

const validateRecord = compile<Omit<RoutingRecord, 'version'> & { version?: typeof ROUTING_RECORD_VERSION }>(
  routingRecordSchema,
);

/**
 * A stored routing record, read: `none` before the lead is routed (NULL),
 * `record` (always with its `version`), or `unreadable` with the reason — a
 * record of a newer version, or one that is not a routing record at all.
 */
export type RoutingRecordRead =
  { kind: 'none' } | { kind: 'record'; record: RoutingRecord } | { kind: 'unreadable'; reason: string };

/** Reads `leads.routing` as PostgreSQL returned it (JSONB, parsed). Never throws. */
export function readRoutingRecord(stored: unknown): RoutingRecordRead {
  if (stored === null || stored === undefined) return { kind: 'none' };
  if (typeof stored !== 'object' || Array.isArray(stored))
    return {
      kind: 'unreadable',
      reason: `the routing record is ${Array.isArray(stored) ? 'an array' : typeof stored}, not an object`,
    };
  const { version = ROUTING_RECORD_VERSION } = stored as { version?: unknown };
  if (version !== ROUTING_RECORD_VERSION) {
    return {
      kind: 'unreadable',
      reason:
        typeof version === 'number' && Number.isInteger(version) && version > ROUTING_RECORD_VERSION
          ? `the routing record is version ${version}, newer than this leadrouter reads (${ROUTING_RECORD_VERSION})`
          : `the routing record's version ${JSON.stringify(version)} is not one leadrouter knows`,
    };
  }
  if (!validateRecord(stored)) {
    const problems = toFieldErrors(validateRecord.errors).map((e) => `${e.field} ${e.message}`);
    return { kind: 'unreadable', reason: `the routing record is not one leadrouter wrote: ${problems.join('; ')}` };
  }
  return { kind: 'record', record: { ...stored, version: ROUTING_RECORD_VERSION } };
}
