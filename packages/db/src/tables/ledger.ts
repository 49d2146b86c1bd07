import { defineStatement, json, sql } from '../sql.js';

// The ledger (docs/decisions/0023-money-model.md): append-only entries, each with its once-key
// (kind, event_id, party). Every writer locks the lead first (LOCK_LEAD_MONEY), reads its entries, decides the
// lines (`ledgerLines`, @leadrouter/money) and inserts them with INSERT_ENTRIES (feedback and the worker's sales:
// APPEND_ENTRIES) in the event's own transaction.

/**
 * Takes the lead's row lock for a money event and reads what its ledger lines depend on: its status, source,
 * geo, and the source's payout terms and postback settings. No personal data.
 */
export const LOCK_LEAD_MONEY = defineStatement({
  name: 'lr_lock_lead_money',
  params: { leadId: 'uuid' },
  row: {
    id: 'text',
    status: '"LeadStatus"',
    sourceId: 'text',
    geo: 'text | null',
    payoutModel: '"PayoutModel" | null',
    payoutAmount: 'text | null',
    payoutPercent: 'text | null',
    payoutGeo: json<Record<string, string> | null>('jsonb | null'),
    clawback: 'boolean',
    postback: 'boolean',
  },
  sql: (p) => sql`SELECT l.id::text, l.status, l.source_id::text AS "sourceId", l.geo::text,
          s.payout_model AS "payoutModel", s.payout_amount::text AS "payoutAmount",
          s.payout_percent::text AS "payoutPercent", s.payout_geo AS "payoutGeo", s.clawback,
          s.postback_url IS NOT NULL AS postback
   FROM leads l JOIN sources s ON s.id = l.source_id WHERE l.id = ${p.leadId} FOR UPDATE OF l`,
});

/**
 * A lead's ledger entries, oldest first (amounts as numeric text: exact); the lines one event wrote together
 * (same time) in the order of their kinds, partner before source.
 */
export const LEAD_ENTRIES = defineStatement({
  name: 'lr_lead_entries',
  params: { leadId: 'uuid' },
  row: {
    id: 'text',
    party: '"LedgerParty"',
    partyId: 'text',
    kind: '"LedgerKind"',
    amount: 'text',
    deliveryId: 'text | null',
    eventId: 'text',
    note: 'varchar | null',
    at: 'timestamptz',
  },
  sql: (
    p,
  ) => sql`SELECT id::text, party, party_id::text AS "partyId", kind, amount::text, delivery_id::text AS "deliveryId",
          event_id::text AS "eventId", note, at
   FROM ledger_entries WHERE lead_id = ${p.leadId} ORDER BY at, recorded_at, kind, party, id`,
});

/** A line's columns as the ledger's inserts take them: one array each, one element per line (amounts as text). */
const LINE_COLUMNS = {
  kinds: '"LedgerKind"[]',
  eventIds: 'uuid[]',
  parties: '"LedgerParty"[]',
  partyIds: 'uuid[]',
  deliveryIds: 'uuid[]',
  amounts: 'numeric[]',
  notes: 'text[]',
} as const;

/**
 * Inserts a lead's lines (arrays of one length, amounts as decimal text), each once: a line whose once-key
 * (kind, event_id, party) is in the ledger already is skipped — a retried job, a replayed event, the same
 * feedback twice, also from two transactions at once (the second waits for the first and inserts nothing).
 * Returns the lines inserted.
 */
export const INSERT_ENTRIES = defineStatement({
  name: 'lr_insert_entries',
  params: {
    leadId: 'uuid',
    ...LINE_COLUMNS,
    at: 'timestamptz',
  },
  row: { id: 'text', kind: '"LedgerKind"', eventId: 'text', party: '"LedgerParty"' },
  sql: (p) => sql`INSERT INTO ledger_entries
     (id, lead_id, lead_created_at, kind, event_id, party, party_id, delivery_id, amount, note, at)
   SELECT uuidv7(), ${p.leadId}, (SELECT created_at FROM leads WHERE id = ${p.leadId}), e.kind, e.event_id, e.party,
          e.party_id, e.delivery_id, e.amount, e.note, ${p.at}
   FROM unnest(${p.kinds}, ${p.eventIds}, ${p.parties}, ${p.partyIds}, ${p.deliveryIds}, ${p.amounts}, ${p.notes})
     WITH ORDINALITY AS e (kind, event_id, party, party_id, delivery_id, amount, note, n)
   ORDER BY e.n
   ON CONFLICT (kind, event_id, party) DO NOTHING
   RETURNING id::text, kind, event_id::text AS "eventId", party`,
});

/**
 * Inserts lines of any leads (arrays of one length, one element per line), each once, as INSERT_ENTRIES does;
 * returns nothing. Combinable (`Statement.combinable`): the lines of every event of a message are one INSERT —
 * a group of feedback events' (ADR 0026 "Group commit") and of the worker's sales (ADR 0038) too — so the
 * ledger's rollup trigger, a statement trigger, runs once for them all rather than once per event
 * (docs/performance.md, "One ledger INSERT a group").
 */
export const APPEND_ENTRIES = defineStatement({
  name: 'lr_append_entries',
  combinable: true,
  params: {
    leadIds: 'uuid[]',
    ...LINE_COLUMNS,
    ats: 'timestamptz[]',
  },
  sql: (p) => sql`INSERT INTO ledger_entries
     (id, lead_id, lead_created_at, kind, event_id, party, party_id, delivery_id, amount, note, at)
   SELECT uuidv7(), e.lead_id, (SELECT l.created_at FROM leads l WHERE l.id = e.lead_id), e.kind, e.event_id,
          e.party, e.party_id, e.delivery_id, e.amount, e.note, e.at
   FROM unnest(${p.leadIds}, ${p.kinds}, ${p.eventIds}, ${p.parties}, ${p.partyIds}, ${p.deliveryIds}, ${p.amounts},
               ${p.notes}, ${p.ats})
     WITH ORDINALITY AS e (lead_id, kind, event_id, party, party_id, delivery_id, amount, note, at, n)
   ORDER BY e.n
   ON CONFLICT (kind, event_id, party) DO NOTHING`,
});
