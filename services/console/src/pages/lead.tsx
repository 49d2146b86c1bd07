import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api/client';
import type { LeadDetail, RetryAnswer } from '../api/types';
import { useAction } from '../ui/action';
import { Async, ErrorNote, useApi, useInterval } from '../ui/data';
import { humanise } from '../ui/format';
import { Page, Section, TableWrap } from '../ui/page';
import { Status } from '../ui/status';
import { Time } from '../ui/time';
import { BASE } from './base';

const SETTLING = new Set(['queued', 'routing']);

/** One lead's whole story: its data, timeline, routing decision and every delivery attempt; retry its dead letters. */
export function LeadPage({ id }: { id: string }) {
  const lead = useApi<LeadDetail>(`/leads/${encodeURIComponent(id)}`);
  const busy =
    lead.data && (SETTLING.has(lead.data.status) || lead.data.deliveries.some((d) => d.status === 'pending'));
  useInterval(() => {
    if (busy) lead.reload();
  }, 2000);
  return (
    <Page title={`Lead ${id.slice(0, 8)}`}>
      <Async state={lead} what="the lead">
        {(l) => <Story lead={l} reload={lead.reload} />}
      </Async>
    </Page>
  );
}

function Story({ lead, reload }: { lead: LeadDetail; reload: () => void }) {
  const names = new Map(lead.deliveries.map((d) => [d.partnerId, d.partner]));
  const [notice, setNotice] = useState<string>();
  const retry = useAction(async (deliveryId: string) => {
    const answer = await api<RetryAnswer>('POST', `/dead-letters/${deliveryId}/retry`);
    setNotice(`Requeued ${answer.requeued} delivery for a fresh set of attempts.`);
    reload();
  });
  const routing = lead.routing;
  return (
    <>
      <p>
        <Status value={lead.status} /> Received <Time iso={lead.createdAt} /> from{' '}
        <a href={`${BASE}/sources/${lead.source.id}`}>{lead.source.name}</a>. <span class="mono">{lead.id}</span>
      </p>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {retry.error && <ErrorNote error={retry.error} />}
      <div class="grid">
        <Section title="Data">
          {lead.personalDataErasedAt && (
            <p class="notice" role="note">
              Personal data erased <Time iso={lead.personalDataErasedAt} />: its name, phone, email, fields and consent
              are gone; its money, statuses and history stay.
            </p>
          )}
          <dl class="props">
            <dt>Name</dt>
            <dd>{lead.lead.name ?? '—'}</dd>
            <dt>Phone</dt>
            <dd>{lead.lead.phone ?? '—'}</dd>
            <dt>Email</dt>
            <dd>{lead.lead.email ?? '—'}</dd>
            <dt>Geo</dt>
            <dd>{lead.lead.geo ?? '—'}</dd>
            <dt>Channel</dt>
            <dd>{lead.lead.source ?? '—'}</dd>
            {Object.entries(lead.lead.fields ?? {}).map(([k, v]) => (
              <Fragment key={k}>
                <dt>{k}</dt>
                <dd>{String(v)}</dd>
              </Fragment>
            ))}
            {lead.lead.consent != null && (
              <>
                <dt>Consent</dt>
                <dd class="mono">{JSON.stringify(lead.lead.consent)}</dd>
              </>
            )}
          </dl>
        </Section>
        <Section title="Timeline">
          <ol class="timeline">
            {lead.events.map((e, i) => (
              <li key={i}>
                <Time iso={e.at} /> <Status value={e.status} />
                {e.partner && <> — {e.partner}</>}
                {e.detail != null && <span class="muted"> {describe(e.detail)}</span>}
              </li>
            ))}
          </ol>
        </Section>
      </div>
      <Section title="Routing decision">
        {!routing ? (
          <p class="muted">Not routed yet.</p>
        ) : (
          <>
            <p>
              {routing.routeName ? (
                <>
                  Route <strong>{routing.routeName}</strong> ({humanise(routing.strategy ?? '')}, up to{' '}
                  {routing.maxDeliveries} {routing.maxDeliveries === 1 ? 'buyer' : 'buyers'}).
                </>
              ) : (
                'No route matched.'
              )}{' '}
              {routing.reason}
            </p>
            {routing.decisions && routing.decisions.length > 0 && (
              <TableWrap label="Every partner the route named">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Partner</th>
                      <th scope="col">Decision</th>
                      <th scope="col">Why</th>
                      <th scope="col">When</th>
                    </tr>
                  </thead>
                  <tbody>
                    {routing.decisions.map((d) => (
                      <tr key={d.partnerId}>
                        <td>
                          <a href={`${BASE}/partners/${d.partnerId}`}>
                            {names.get(d.partnerId) ?? d.partnerId.slice(0, 8)}
                          </a>
                        </td>
                        <td>
                          <Status value={d.decision} />
                        </td>
                        <td>{d.reason ?? '—'}</td>
                        <td>
                          <Time iso={d.at} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
          </>
        )}
      </Section>
      <Section title="Deliveries">
        {lead.deliveries.length === 0 && <p class="muted">No partner has been offered this lead.</p>}
        {lead.deliveries.map((d) => (
          <div key={d.id} class="delivery">
            <h3>
              {d.partner} <Status value={d.status} />
            </h3>
            <p class="muted">
              {d.attempts} {d.attempts === 1 ? 'attempt' : 'attempts'}
              {d.retries > 0 && `, retried ${d.retries} times by an operator`}
              {d.price != null && `, price ${d.price}`}
              {d.reason && ` — ${d.reason}`}
            </p>
            {d.status === 'dead_lettered' && (
              <div class="button-row">
                <button type="button" class="primary" disabled={retry.busy} onClick={() => void retry.run(d.id)}>
                  Retry delivery to {d.partner}
                </button>
              </div>
            )}
            {d.attemptLog.length > 0 && (
              <TableWrap label={`Attempts to deliver to ${d.partner}`}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">Outcome</th>
                      <th scope="col">HTTP</th>
                      <th scope="col">Time</th>
                      <th scope="col">Partner’s answer</th>
                      <th scope="col">At</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.attemptLog.map((a) => (
                      <tr key={a.attempt}>
                        <td>{a.attempt}</td>
                        <td>
                          <Status value={a.outcome} />
                        </td>
                        <td>{a.httpStatus ?? '—'}</td>
                        <td>{a.durationMs} ms</td>
                        <td>
                          {a.error && <div>{a.error}</div>}
                          {a.response && <code class="answer">{a.response}</code>}
                        </td>
                        <td>
                          <Time iso={a.at} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
          </div>
        ))}
      </Section>
    </>
  );
}

function describe(detail: unknown): string {
  if (typeof detail !== 'object' || detail === null) return String(detail);
  const erasure = detail as { event?: unknown; by?: unknown; reason?: unknown };
  if (erasure.event === 'personal_data_erased')
    return `personal data erased ${erasure.by === 'retention' ? 'after its retention' : 'by an operator'}${
      typeof erasure.reason === 'string' ? `: ${erasure.reason}` : ''
    }`;
  return Object.entries(detail)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${humanise(k)}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}
