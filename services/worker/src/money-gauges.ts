import { scrapeGauge, type WorkerMetrics } from '@leadrouter/metrics';
import { PARTNER_MONEY_SINCE, runStatement, sqlPool, type StatementRow } from '@leadrouter/db';
import type { WorkerDeps } from './deps.js';

/** The window of the money gauges: the current UTC hour and the 23 before it. */
export const MONEY_GAUGE_WINDOW_HOURS = 24;
/** How long one scrape's reading serves the others (each gauge asks; one query answers them all). */
const READING_TTL_MS = 1_000;

type PartnerMoney = StatementRow<typeof PARTNER_MONEY_SINCE>;

/**
 * Each partner's money and events over the last 24 hours, read from the report rollups when Prometheus scrapes
 * (ADR 0028): gauges, not counters incremented where the events are recorded — the rollups already hold every
 * sale, conversion, return and reversal exactly once, whichever process recorded it (the worker its sales, the
 * ingest the feedback, the CLI nothing), so every worker reports the same figures (alert on `max`, not `sum`),
 * a restart loses nothing, and nothing is added to the transactions that record money. A window rather than
 * all-time totals: a scrape reads 24 hours of rollup rows, not the whole history; `leadrouter_partner_reversals_24h
 * / leadrouter_partner_conversions_24h` is the reversal rate to alert on. Amounts are in CURRENCY, as floats
 * (metrics, not records; the reports have them exact).
 */
export function registerMoneyGauges(
  deps: Pick<WorkerDeps, 'db' | 'now'>,
  { registry }: Pick<WorkerMetrics, 'registry'>,
): void {
  const pool = sqlPool(deps.db);
  let reading: { at: number; rows: Promise<PartnerMoney[]> } | undefined;
  const rows = () => {
    const now = Date.now();
    if (!reading || now - reading.at > READING_TTL_MS) {
      const since = new Date(deps.now().getTime() - (MONEY_GAUGE_WINDOW_HOURS - 1) * 3_600_000);
      reading = { at: now, rows: runStatement(pool, PARTNER_MONEY_SINCE, { since }) };
      reading.rows.catch(() => (reading = undefined));
    }
    return reading.rows;
  };
  const gauge = (name: string, help: string, value: (r: PartnerMoney) => number) =>
    scrapeGauge(registry, name, `${help}, over the current UTC hour and the 23 before it`, ['partner'], async () =>
      (await rows()).map((r) => ({ labels: { partner: r.partnerName ?? r.partnerId }, value: value(r) })),
    );
  gauge('leadrouter_partner_revenue_24h', 'What each partner paid, net of returns and reversals', (r) =>
    Number(r.revenue),
  );
  gauge('leadrouter_partner_cost_24h', 'What sources are paid for the leads each partner bought', (r) =>
    Number(r.cost),
  );
  gauge('leadrouter_partner_sales_24h', 'Leads each partner bought', (r) => Number(r.sold));
  gauge('leadrouter_partner_conversions_24h', 'Conversions each partner reported', (r) => Number(r.converted));
  gauge('leadrouter_partner_returns_24h', 'Approved returns of each partner', (r) => Number(r.returned));
  gauge('leadrouter_partner_reversals_24h', 'Conversions each partner took back', (r) => Number(r.reversed));
}
