import { useState } from 'preact/hooks';
import { api, query } from '../api/client';
import type { Page as ApiPage, Return, ReturnStatus } from '../api/types';
import { useAction } from '../ui/action';
import { Async, ErrorNote, useApi } from '../ui/data';
import { describedBy, Field } from '../ui/field';
import { Page, TableWrap } from '../ui/page';
import { Status } from '../ui/status';
import { Time } from '../ui/time';
import { BASE } from './base';
import { PartnerFilter } from './partner-filter';

const SHOWN: { value: string; label: string }[] = [
  { value: 'pending', label: 'waiting for a decision' },
  { value: 'approved', label: 'approved' },
  { value: 'rejected', label: 'rejected' },
  { value: 'pending,approved,rejected', label: 'all' },
];

/**
 * The returns queue (ADR 0026): partners' returns waiting for an operator, oldest first. Approving credits the
 * partner and claws the source's payout back; rejecting needs a reason, which the partner's side keeps.
 */
export function Returns() {
  const [status, setStatus] = useState('pending');
  const [partner, setPartner] = useState('');
  const list = useApi<ApiPage<Return>>(`/returns${query({ status, partner, limit: 500 })}`);
  const [notice, setNotice] = useState<string>();
  return (
    <Page title="Returns">
      <div class="panel filters">
        <Field id="ret-status" label="Show">
          <select id="ret-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            {SHOWN.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </Field>
        <PartnerFilter id="ret-partner" value={partner} onChange={setPartner} />
      </div>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <Async
        state={list}
        what="returns"
        isEmpty={(p) => p.items.length === 0}
        empty={status === 'pending' ? 'No return is waiting for a decision.' : 'No returns.'}
      >
        {(p) => (
          <TableWrap label="Returns">
            <table>
              <thead>
                <tr>
                  <th scope="col">Filed</th>
                  <th scope="col">Lead</th>
                  <th scope="col">Partner</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Credit</th>
                  <th scope="col">Status</th>
                  <th scope="col">Decision</th>
                </tr>
              </thead>
              <tbody>
                {p.items.map((r) => (
                  <ReturnRow
                    key={r.id}
                    ret={r}
                    decided={(done, verb) => {
                      setNotice(`Return of lead ${done.leadId.slice(-8)} by ${done.partner.name} ${verb}.`);
                      list.reload();
                    }}
                  />
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </Async>
    </Page>
  );
}

function ReturnRow({ ret, decided }: { ret: Return; decided: (r: Return, verb: ReturnStatus) => void }) {
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const approve = useAction(async () => {
    decided(await api<Return>('POST', `/returns/${ret.id}/approve`), 'approved');
  });
  const reject = useAction(async () => {
    decided(await api<Return>('POST', `/returns/${ret.id}/reject`, { body: { reason } }), 'rejected');
  });
  const who = `lead ${ret.leadId.slice(-8)} by ${ret.partner.name}`;
  const reasonError = reject.error?.forField('/reason');
  const id = `reject-${ret.id}`;
  return (
    <tr>
      <td>
        <Time iso={ret.createdAt} />
        <div class="muted">{ret.filedVia === 'operator' ? 'by an operator' : 'by the partner'}</div>
      </td>
      <td>
        <a href={`${BASE}/leads/${ret.leadId}`} class="mono">
          {ret.leadId.slice(-8)}
        </a>
      </td>
      <td>
        <a href={`${BASE}/partners/${ret.partner.id}`}>{ret.partner.name}</a>
      </td>
      <td>{ret.reason}</td>
      <td>{ret.amount ?? '—'}</td>
      <td>
        <Status value={ret.status} />
      </td>
      <td>
        {ret.status === 'pending' ? (
          <>
            <div class="button-row">
              <button
                type="button"
                class="primary"
                disabled={approve.busy}
                aria-label={`Approve the return of ${who}`}
                onClick={() => void approve.run()}
              >
                Approve
              </button>
              <button
                type="button"
                aria-expanded={rejecting}
                aria-controls={id}
                aria-label={`Reject the return of ${who}`}
                onClick={() => setRejecting(!rejecting)}
              >
                Reject…
              </button>
            </div>
            {approve.error && <ErrorNote error={approve.error} />}
            {rejecting && (
              <form
                id={id}
                aria-label={`Reject the return of ${who}`}
                onSubmit={(e) => {
                  e.preventDefault();
                  void reject.run();
                }}
              >
                <Field id={`${id}-reason`} label="Why it is rejected" error={reasonError}>
                  <input
                    value={reason}
                    required
                    maxLength={500}
                    onInput={(e) => setReason(e.currentTarget.value)}
                    {...describedBy(`${id}-reason`, undefined, reasonError)}
                  />
                </Field>
                <button type="submit" disabled={reject.busy}>
                  Reject the return
                </button>
                {reject.error && !reasonError && <ErrorNote error={reject.error} />}
              </form>
            )}
          </>
        ) : (
          <>
            {ret.decidedBy === 'auto' ? 'approved at once' : ret.decidedBy}
            {ret.decidedAt && (
              <>
                {' '}
                <Time iso={ret.decidedAt} />
              </>
            )}
            {ret.decisionReason && <div class="muted">{ret.decisionReason}</div>}
          </>
        )}
      </td>
    </tr>
  );
}
