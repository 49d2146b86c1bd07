import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api/client';
import type { Page as ApiPage, LeadDetail, Partner, RetryAnswer, Return } from '../api/types';
import { generalError, useAction } from '../ui/action';
import { describedBy, Field } from '../ui/field';
import { Async, ErrorNote, useApi, useInterval } from '../ui/data';
import { humanise } from '../ui/format';
import { Page, Section, TableWrap } from '../ui/page';
import { formatMoney } from '../ui/format';
import { Status } from '../ui/status';
import { Time } from '../ui/time';
import { Auction } from './auction';
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
    <Page title={`Lead ${id.slice(-8)}`}>
      <Async state={lead} what="the lead">
        {(l) => <Story lead={l} reload={lead.reload} />}
      </Async>
    </Page>
  );
}

function Story({ lead, reload }: { lead: LeadDetail; reload: () => void }) {
  const routing = lead.routing;
  const names = new Map(lead.deliveries.map((d) => [d.partnerId, d.partner]));
  // Partners the route named that were never offered the lead (skipped, no bid) are named from the partner list.
  const unnamed = [...(routing?.decisions ?? []), ...(routing?.pings ?? [])].some((x) => !names.has(x.partnerId));
  const partners = useApi<ApiPage<Partner>>(unnamed ? '/partners?limit=500' : null);
  for (const p of partners.data?.items ?? []) if (!names.has(p.id)) names.set(p.id, p.name);
  const name = (partnerId: string) => names.get(partnerId) ?? partnerId.slice(-8);
  const [notice, setNotice] = useState<string>();
  const retry = useAction(async (deliveryId: string) => {
    const answer = await api<RetryAnswer>('POST', `/dead-letters/${deliveryId}/retry`);
    setNotice(`Requeued ${answer.requeued} delivery for a fresh set of attempts.`);
    reload();
  });
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
                          <a href={`${BASE}/partners/${d.partnerId}`}>{name(d.partnerId)}</a>
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
      {routing?.pings && <Auction routing={routing} name={name} />}
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
      <Money lead={lead} />
      <Feedback lead={lead} />
      <Returns lead={lead} reload={reload} />
    </>
  );
}

/** The lead's money: revenue, cost and margin, and every ledger entry behind them. */
function Money({ lead }: { lead: LeadDetail }) {
  const { money } = lead;
  const partyName = (party: string, id: string) =>
    party === 'source' ? lead.source.name : (lead.deliveries.find((d) => d.partnerId === id)?.partner ?? id.slice(-8));
  return (
    <Section title="Money">
      <dl class="props">
        <dt>Revenue</dt>
        <dd>{formatMoney(money.revenue)}</dd>
        <dt>Cost</dt>
        <dd>{formatMoney(money.cost)}</dd>
        <dt>Margin</dt>
        <dd>{formatMoney(money.margin)}</dd>
      </dl>
      {money.entries.length === 0 ? (
        <p class="muted">No ledger entry: nothing was sold or paid for this lead.</p>
      ) : (
        <TableWrap label="Ledger of the lead">
          <table>
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Side</th>
                <th scope="col">Who</th>
                <th scope="col">Kind</th>
                <th scope="col">Amount</th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {money.entries.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Time iso={e.at} />
                  </td>
                  <td>{e.party === 'partner' ? 'revenue' : 'cost'}</td>
                  <td>{partyName(e.party, e.partyId)}</td>
                  <td>{humanise(e.kind)}</td>
                  <td class="num">{formatMoney(e.amount)}</td>
                  <td>{e.note ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </Section>
  );
}

/** What partners said became of the lead, as received. */
function Feedback({ lead }: { lead: LeadDetail }) {
  return (
    <Section title="Partners’ feedback">
      {lead.feedback.length === 0 ? (
        <p class="muted">No partner has reported on this lead.</p>
      ) : (
        <TableWrap label="Feedback on the lead">
          <table>
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Partner</th>
                <th scope="col">Event</th>
                <th scope="col">What it did</th>
                <th scope="col">Amount</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {lead.feedback.map((f, i) => (
                <tr key={f.eventId ?? i}>
                  <td>
                    <Time iso={f.at} />
                    {f.via !== 'push' && <div class="muted">{humanise(f.via)}</div>}
                  </td>
                  <td>{f.partner}</td>
                  <td>
                    {humanise(f.event)}
                    {f.status && <span class="muted"> “{f.status}”</span>}
                  </td>
                  <td>
                    <Status value={f.outcome} />
                  </td>
                  <td class="num">{f.amount ?? '—'}</td>
                  <td>{f.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </Section>
  );
}

/** The lead's returns, and a return filed for a partner that bought it (approved at once). */
function Returns({ lead, reload }: { lead: LeadDetail; reload: () => void }) {
  const returned = new Set(lead.returns.map((r) => r.partner.id));
  const buyers = lead.deliveries.filter((d) => d.status === 'accepted' && !returned.has(d.partnerId));
  const [partnerId, setPartnerId] = useState('');
  const [reason, setReason] = useState('');
  const [notice, setNotice] = useState<string>();
  const chosen = partnerId || buyers[0]?.partnerId || '';
  const file = useAction(async () => {
    const r = await api<Return>('POST', `/leads/${lead.id}/returns`, { body: { partnerId: chosen, reason } });
    setNotice(`Return for ${r.partner.name} filed and approved${r.amount != null ? `: ${r.amount} credited` : ''}.`);
    setReason('');
    reload();
  });
  const reasonError = file.error?.forField('/reason');
  const partnerError = file.error?.forField('/partnerId');
  return (
    <Section title="Returns">
      {lead.returns.length === 0 ? (
        <p class="muted">No partner has returned this lead.</p>
      ) : (
        <ul>
          {lead.returns.map((r) => (
            <li key={r.id}>
              <Status value={r.status} /> {r.partner.name}: {r.reason} <Time iso={r.createdAt} />
              {r.decisionReason && <span class="muted"> — {r.decisionReason}</span>}
              {r.status === 'pending' && (
                <>
                  {' '}
                  <a href={`${BASE}/returns`}>decide in the queue</a>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {buyers.length > 0 && (
        <form
          aria-label="File a return"
          onSubmit={(e) => {
            e.preventDefault();
            void file.run();
          }}
        >
          <h3>File a return</h3>
          <p class="muted">For a partner that asked another way (by e-mail, say): approved at once.</p>
          {file.error && !reasonError && !partnerError && (
            <p class="state error" role="alert">
              {generalError(file.error, ['/reason', '/partnerId'])}
            </p>
          )}
          <div class="form-grid">
            <Field id="return-partner" label="Partner returning it" error={partnerError}>
              <select
                value={chosen}
                onChange={(e) => setPartnerId(e.currentTarget.value)}
                {...describedBy('return-partner', undefined, partnerError)}
              >
                {buyers.map((d) => (
                  <option key={d.partnerId} value={d.partnerId}>
                    {d.partner}
                  </option>
                ))}
              </select>
            </Field>
            <Field id="return-reason" label="Reason" hint="the source may read it" error={reasonError}>
              <input
                value={reason}
                required
                maxLength={500}
                onInput={(e) => setReason(e.currentTarget.value)}
                {...describedBy('return-reason', 'the source may read it', reasonError)}
              />
            </Field>
          </div>
          <button type="submit" disabled={file.busy}>
            {file.busy ? 'Filing…' : 'File and approve the return'}
          </button>
        </form>
      )}
    </Section>
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
