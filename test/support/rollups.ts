import type { Db } from '@leadrouter/db';

/** A report figure's column, as the rollups name it. */
type Figure = 'sold' | 'converted' | 'reversed' | 'revenue' | 'cost';

/**
 * The sums of `figures` of a source's leads with a partner in the report rollups (`report_daily` and
 * `report_hourly`), as text (exact): what the deltas folded so far (`report_fold`) made of them.
 */
export async function rollupFigures(
  db: Db,
  sourceId: string,
  partnerId: string,
  figures: readonly Figure[],
): Promise<{ daily: Record<string, string>; hourly: Record<string, string> }> {
  const of = async (table: 'report_daily' | 'report_hourly') =>
    (
      await db.$queryRawUnsafe<Record<string, string>[]>(
        `SELECT ${figures.map((f) => `sum(${f})::text AS ${f}`).join(', ')}
         FROM ${table} WHERE source_id = $1::uuid AND partner_id = $2::uuid`,
        sourceId,
        partnerId,
      )
    )[0]!;
  return { daily: await of('report_daily'), hourly: await of('report_hourly') };
}

/** The leads' ledger as the rollups sum it: `revenue` (the partners' lines) and `cost` (the sources'), as text. */
export async function ledgerSums(db: Db, leadIds: readonly string[]): Promise<{ revenue: string; cost: string }> {
  return (
    await db.$queryRaw<{ revenue: string; cost: string }[]>`
      SELECT coalesce(sum(amount) FILTER (WHERE party = 'partner'), 0)::numeric(18, 4)::text AS revenue,
             coalesce(sum(amount) FILTER (WHERE party = 'source'), 0)::numeric(18, 4)::text AS cost
      FROM ledger_entries WHERE lead_id = ANY(${leadIds}::uuid[])`
  )[0]!;
}
