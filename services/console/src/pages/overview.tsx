import { useMemo, useState } from 'preact/hooks';
import { query } from '../api/client';
import {
  LEAD_STATUSES,
  type Page as ApiPage,
  type Partner,
  type QueueDepths,
  type Stats,
  type Timeline,
} from '../api/types';
import { BarChart } from '../ui/chart';
import { Async, useApi, useInterval } from '../ui/data';
import { formatMoney, formatNumber, formatPercent, humanise, startOfToday } from '../ui/format';
import { Page, Section, TableWrap } from '../ui/page';
import { Status } from '../ui/status';
import { BASE } from './base';

const REFRESH_MS = 15_000;

/** The system now: today's leads, the last hour minute by minute, deliveries, queues, and what needs a hand. */
export function Overview() {
  const [now, setNow] = useState(() => new Date());
  const today = useMemo(() => startOfToday(now), [now]);
  // The last full hour, minute by minute: the window moves with every refresh.
  const hourAgo = useMemo(() => new Date(now.getTime() - 3600_000).toISOString(), [now]);
  const stats = useApi<Stats>(`/stats${query({ since: today })}`);
  const timeline = useApi<Timeline>(`/stats/timeline${query({ since: hourAgo, step: 'minute' })}`);
  const queues = useApi<QueueDepths>('/queues');
  const partners = useApi<ApiPage<Partner>>(`/partners${query({ limit: 500 })}`);
  useInterval(() => {
    setNow(new Date());
    stats.reload();
    queues.reload();
    partners.reload();
  }, REFRESH_MS);

  return (
    <Page title="Overview">
      <div class="grid">
        <Section title="Leads today">
          <Async state={stats} what="today’s leads">
            {(s) => (
              <>
                <p class="big">
                  {formatNumber(s.leads.received)} <span class="muted">received</span>
                </p>
                <ul class="counts">
                  {LEAD_STATUSES.map((status) => (
                    <li key={status}>
                      <Status value={status} /> <strong>{formatNumber(s.leads.byStatus[status] ?? 0)}</strong>
                    </li>
                  ))}
                </ul>
                {s.rejections.total > 0 && (
                  <p>
                    {formatNumber(s.rejections.total)} posts refused (
                    {Object.entries(s.rejections.byReason)
                      .map(([r, n]) => `${humanise(r)}: ${n}`)
                      .join(', ')}
                    )
                  </p>
                )}
              </>
            )}
          </Async>
        </Section>
        <Section title="Deliveries today">
          <Async state={stats} what="today’s deliveries">
            {(s) => <DeliveryRate stats={s} />}
          </Async>
        </Section>
        <Section title="Money today">
          <Async state={stats} what="today’s money">
            {(s) => (
              <>
                <p class="big">
                  {formatMoney(s.margin)} <span class="muted">margin</span>
                </p>
                <dl class="props">
                  <dt>Revenue</dt>
                  <dd>{formatMoney(s.revenue)}</dd>
                  <dt>Cost</dt>
                  <dd>{formatMoney(s.cost)}</dd>
                  <dt>Sales</dt>
                  <dd>{formatNumber(s.sales)}</dd>
                  <dt>Conversions</dt>
                  <dd>
                    {formatNumber(s.conversions)}
                    {s.conversionRate != null && ` (${formatPercent(s.conversionRate)})`}
                  </dd>
                  <dt>Returns</dt>
                  <dd>
                    {formatNumber(s.returns)}
                    {s.returnRate != null && ` (${formatPercent(s.returnRate)})`}{' '}
                    <a href={`${BASE}/returns`}>returns queue</a>
                  </dd>
                </dl>
                <p class="muted">
                  Net of returns and reversals, with adjustments. <a href={`${BASE}/reports`}>Reports</a>
                </p>
              </>
            )}
          </Async>
        </Section>
      </div>
      <Section title="Leads per minute, last hour">
        <Async state={timeline} what="the last hour">
          {(t) => (
            <BarChart
              bars={t.points.map((p) => ({ at: p.at, value: p.received }))}
              label="Leads received per minute"
              unit="leads"
            />
          )}
        </Async>
      </Section>
      <div class="grid">
        <Section title="Needs attention">
          <Async state={queues} what="dead letters">
            {(q) => (
              <p>
                <a href={`${BASE}/dead-letters`}>
                  <strong>{formatNumber(q.deadLetters)}</strong> dead letters
                </a>
              </p>
            )}
          </Async>
          <Async state={partners} what="partners">
            {(p) => {
              const paused = p.items.filter((x) => x.status === 'paused');
              return paused.length === 0 ? (
                <p>No partner is paused.</p>
              ) : (
                <>
                  <p>
                    <strong>{paused.length}</strong> paused {paused.length === 1 ? 'partner' : 'partners'}:
                  </p>
                  <ul>
                    {paused.map((x) => (
                      <li key={x.id}>
                        <a href={`${BASE}/partners/${x.id}`}>{x.name}</a>
                        {x.pauseReason && <span class="muted"> — {x.pauseReason}</span>}
                      </li>
                    ))}
                  </ul>
                </>
              );
            }}
          </Async>
        </Section>
        <Section title="Queues">
          <Async state={queues} what="queue depths">
            {(q) => (
              <TableWrap label="Queue depths">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Queue</th>
                      <th scope="col">Waiting</th>
                      <th scope="col">Active</th>
                      <th scope="col">Delayed</th>
                      <th scope="col">Failed</th>
                    </tr>
                  </thead>
                  <tbody>
                    {q.queues.map((x) => (
                      <tr key={x.name}>
                        <th scope="row">{x.name}</th>
                        <td>{formatNumber(x.waiting)}</td>
                        <td>{formatNumber(x.active)}</td>
                        <td>{formatNumber(x.delayed)}</td>
                        <td>{formatNumber(x.failed)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
          </Async>
        </Section>
      </div>
    </Page>
  );
}

function DeliveryRate({ stats }: { stats: Stats }) {
  const total = { accepted: 0, rejected: 0, dead_lettered: 0, pending: 0, attempts: 0 };
  for (const p of stats.partners) {
    total.accepted += p.deliveries.accepted;
    total.rejected += p.deliveries.rejected;
    total.dead_lettered += p.deliveries.dead_lettered;
    total.pending += p.deliveries.pending;
    total.attempts += p.attempts;
  }
  const settled = total.accepted + total.rejected + total.dead_lettered;
  return (
    <>
      <p class="big">
        {settled ? formatPercent(total.accepted / settled) : '—'} <span class="muted">accepted</span>
      </p>
      <ul class="counts">
        <li>
          <Status value="accepted" /> <strong>{formatNumber(total.accepted)}</strong>
        </li>
        <li>
          <Status value="rejected" /> <strong>{formatNumber(total.rejected)}</strong>
        </li>
        <li>
          <Status value="dead_lettered" /> <strong>{formatNumber(total.dead_lettered)}</strong>
        </li>
        <li>
          <Status value="pending" /> <strong>{formatNumber(total.pending)}</strong>
        </li>
      </ul>
      <p class="muted">{formatNumber(total.attempts)} requests sent to partners (retries included).</p>
    </>
  );
}
