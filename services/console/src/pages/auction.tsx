import type { AuctionPing, RoutingRecord } from '../api/types';
import { formatMoney, formatNumber } from '../ui/format';
import { Section, TableWrap } from '../ui/page';
import { Status } from '../ui/status';
import { BASE } from './base';

const OUTCOME = { bid: 'bid', no_bid: 'no bid', timeout: 'no answer in time', error: 'failed' } as const;
const ORDINAL = ['highest', 'second highest', 'third highest'];
const ordinal = (rank: number) => ORDINAL[rank] ?? `${rank + 1}th highest`;

/**
 * Who won an auction and why, in words (ADR 0032): the bids taken are the record's `candidates`, highest
 * first; a buyer won when its offer was accepted, and a higher bid than the winner's lost by its own fate
 * (refused the post, dead-lettered, skipped at post time for its cap or schedule, or not offered at all).
 */
export function auctionVerdict(routing: RoutingRecord, name: (partnerId: string) => string): string {
  const pings = routing.pings ?? [];
  const bidOf = (id: string) => pings.find((p) => p.partnerId === id)?.bid;
  const fate = (id: string) => routing.decisions?.find((d) => d.partnerId === id);
  const ranked = routing.candidates ?? [];
  const won = ranked.filter((id) => fate(id)?.decision === 'accepted');
  if (ranked.length === 0)
    return `No bid was taken: ${routing.reason ?? 'no buyer bid at or above the floor'}, so no buyer was offered the lead.`;
  if (won.length === 0) {
    // A bid not offered the lead has no decision in the record (`not_offered` is only the API's view of it).
    const offered = ranked.filter((id) => fate(id) !== undefined);
    return offered.length === 0
      ? 'No buyer has been offered the lead yet.'
      : `No buyer took the lead: ${offered.map((id) => `${name(id)} (${lost(fate(id))})`).join(', ')}.`;
  }
  return won
    .map((id) => {
      const rank = ranked.indexOf(id);
      const above = ranked
        .slice(0, rank)
        .filter((other) => !won.includes(other))
        .map((other) => `${name(other)} bid ${formatMoney(bidOf(other) ?? '0')} and ${lost(fate(other))}`);
      return `${name(id)} won at ${formatMoney(bidOf(id) ?? '0')}, the ${ordinal(rank)} bid${
        above.length ? `: ${above.join('; ')}` : ''
      }.`;
    })
    .join(' ');
}

function lost(d: { decision: string; reason?: string } | undefined): string {
  if (!d) return 'was not offered the lead';
  const why = d.reason ? ` (${d.reason})` : '';
  switch (d.decision) {
    case 'rejected':
      return `refused the post${why}`;
    case 'dead_lettered':
      return `could not be reached${why}`;
    case 'skipped':
      return `was passed over${why}`;
    case 'not_offered':
      return 'was not offered it: the lead was placed before its turn';
    case 'offered':
      return 'has not answered the post yet';
    default:
      return `${d.decision.replace(/_/g, ' ')}${why}`;
  }
}

/** An auction route's pings: who was pinged, what each bid and how long it took, the ranking, each one's fate. */
export function Auction({ routing, name }: { routing: RoutingRecord; name: (partnerId: string) => string }) {
  const pings = routing.pings ?? [];
  const ranked = routing.candidates ?? [];
  const fate = (id: string) => routing.decisions?.find((d) => d.partnerId === id);
  // A bid taken without a decision: a buyer ranked above it took the lead first, or its turn has not come yet.
  const waiting = ranked.some((id) => fate(id)?.decision === 'accepted')
    ? 'not offered: sold before its turn'
    : 'not offered yet';
  return (
    <Section title="Auction">
      <p>{auctionVerdict(routing, name)}</p>
      <TableWrap label="Pings and bids">
        <table>
          <thead>
            <tr>
              <th scope="col">Partner</th>
              <th scope="col">Ping</th>
              <th scope="col" class="num">
                Bid
              </th>
              <th scope="col" class="num">
                Took
              </th>
              <th scope="col" class="num">
                Rank
              </th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {pings.map((p: AuctionPing) => {
              const rank = ranked.indexOf(p.partnerId);
              const f = fate(p.partnerId);
              return (
                <tr key={p.partnerId}>
                  <td>
                    <a href={`${BASE}/partners/${p.partnerId}`}>{name(p.partnerId)}</a>
                  </td>
                  <td>
                    {p.pinged ? OUTCOME[p.outcome] : 'not pinged: its fixed price'}
                    {p.reason && <span class="muted"> — {p.reason}</span>}
                    {p.reference && <div class="muted">reference {p.reference}</div>}
                  </td>
                  <td class="num">{p.bid === undefined ? '—' : formatMoney(p.bid)}</td>
                  <td class="num">{p.pinged ? `${formatNumber(p.durationMs)} ms` : '—'}</td>
                  <td class="num">{rank < 0 ? '—' : rank + 1}</td>
                  <td>
                    {f ? <Status value={f.decision} /> : rank < 0 ? '—' : waiting}
                    {f?.reason && <span class="muted"> {f.reason}</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableWrap>
    </Section>
  );
}
