import {
  ATTEMPT_OUTCOMES,
  CAP_PERIODS,
  FEEDBACK_EVENT_KINDS,
  FEEDBACK_VIA,
  LEDGER_KINDS,
  LEDGER_PARTIES,
  PAYOUT_MODELS,
  RETURN_STATUSES,
  DELIVERY_STATUSES,
  LEAD_STATUSES,
  POSTBACK_EVENTS,
  POSTBACK_STATUSES,
  ROUTE_STRATEGIES,
} from '@leadrouter/core';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';

// The states the code speaks in (packages/core/src/states.ts) are the labels of
// PostgreSQL's enums, in order: a status added to one and not the other fails here.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(() => database.drop());

it("packages/core's state lists are the migrated database's enums", async () => {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; labels: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
    );
    const enums = Object.fromEntries(rows.map((r) => [r.name, r.labels]));
    expect(enums).toEqual({
      LeadStatus: [...LEAD_STATUSES],
      DeliveryStatus: [...DELIVERY_STATUSES],
      AttemptOutcome: [...ATTEMPT_OUTCOMES],
      PostbackStatus: [...POSTBACK_STATUSES],
      PostbackEvent: [...POSTBACK_EVENTS],
      RouteStrategy: [...ROUTE_STRATEGIES],
      PayoutModel: [...PAYOUT_MODELS],
      LedgerParty: [...LEDGER_PARTIES],
      LedgerKind: [...LEDGER_KINDS],
      FeedbackEventKind: [...FEEDBACK_EVENT_KINDS],
      FeedbackVia: [...FEEDBACK_VIA],
      ReturnStatus: [...RETURN_STATUSES],
      CapPeriod: [...CAP_PERIODS],
    });
  } finally {
    await client.end();
  }
});
