import { useLocation } from 'preact-iso/router';
import { useState } from 'preact/hooks';
import { query } from '../api/client';
import { LEAD_STATUSES, type LeadListItem, type Page as ApiPage } from '../api/types';
import { Async, useApi } from '../ui/data';
import { describedBy, Field } from '../ui/field';
import { humanise, localInputToIso } from '../ui/format';
import { Page, TableWrap } from '../ui/page';
import { Status } from '../ui/status';
import { Time } from '../ui/time';
import { BASE } from './base';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FILTERS = ['phone', 'email', 'status', 'source', 'partner', 'since', 'until'] as const;

/** Find leads by id, phone, email, status, source, partner and time; the filters live in the address, to share. */
export function Leads() {
  const { query: params, route } = useLocation();
  const [form, setForm] = useState<Record<string, string>>({ id: '', ...params });
  const [cursor, setCursor] = useState<string>();
  const apiQuery = query({
    ...Object.fromEntries(FILTERS.map((f) => [f, params[f]])),
    limit: 50,
    cursor,
  });
  const results = useApi<ApiPage<LeadListItem>>(`/leads${apiQuery}`);
  const set = (name: string) => (e: Event) => setForm({ ...form, [name]: (e.currentTarget as HTMLInputElement).value });

  const submit = (e: Event) => {
    e.preventDefault();
    const id = form.id?.trim();
    if (id && UUID.test(id)) {
      route(`${BASE}/leads/${id.toLowerCase()}`);
      return;
    }
    setCursor(undefined);
    const next = Object.fromEntries(FILTERS.map((f) => [f, form[f]]));
    route(`${BASE}/leads${query(next)}`);
  };

  const field = (name: string, label: string, type: 'text' | 'tel' | 'email' = 'text', hint?: string) => {
    const id = `lead-${name}`;
    const error = results.error?.forField(name);
    return (
      <Field id={id} label={label} hint={hint} error={error}>
        {/* eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- Preact 11's input types want one literal */}
        <input type={type as 'text'} value={form[name] ?? ''} onInput={set(name)} {...describedBy(id, hint, error)} />
      </Field>
    );
  };

  return (
    <Page title="Leads">
      <form class="panel" onSubmit={submit} role="search" aria-label="Find leads">
        <div class="filters">
          {field('id', 'Lead id')}
          {field('phone', 'Phone', 'tel', 'with its country code')}
          {field('email', 'Email', 'email')}
          <Field id="lead-status" label="Status">
            <select id="lead-status" value={form.status ?? ''} onChange={set('status')}>
              <option value="">any</option>
              {LEAD_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {humanise(s)}
                </option>
              ))}
            </select>
          </Field>
          {field('source', 'Source', 'text', 'name or id')}
          {field('partner', 'Partner', 'text', 'name or id')}
          <Field id="lead-since" label="From">
            <input
              id="lead-since"
              type="datetime-local"
              onInput={(e) => setForm({ ...form, since: localInputToIso(e.currentTarget.value) })}
            />
          </Field>
          <Field id="lead-until" label="Until">
            <input
              id="lead-until"
              type="datetime-local"
              onInput={(e) => setForm({ ...form, until: localInputToIso(e.currentTarget.value) })}
            />
          </Field>
        </div>
        <div class="button-row">
          <button type="submit" class="primary">
            Search
          </button>
          <a class="button" href={`${BASE}/leads`} onClick={() => setForm({ id: '' })}>
            Clear
          </a>
        </div>
      </form>
      <Async state={results} what="leads" isEmpty={(p) => p.items.length === 0} empty="No lead matches these filters.">
        {(p) => (
          <>
            <TableWrap label="Leads found">
              <table>
                <caption class="sr-only">Leads found, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Lead</th>
                    <th scope="col">Status</th>
                    <th scope="col">Source</th>
                    <th scope="col">Geo</th>
                    <th scope="col">Received</th>
                  </tr>
                </thead>
                <tbody>
                  {p.items.map((l) => (
                    <tr key={l.id}>
                      <td>
                        <a href={`${BASE}/leads/${l.id}`} class="mono">
                          {l.id.slice(-8)}
                          <span class="sr-only">{l.id.slice(8)}</span>
                        </a>
                      </td>
                      <td>
                        <Status value={l.status} />
                      </td>
                      <td>{l.sourceName ?? l.sourceId}</td>
                      <td>{l.geo ?? '—'}</td>
                      <td>
                        <Time iso={l.createdAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            <div class="button-row">
              {cursor && (
                <button type="button" onClick={() => setCursor(undefined)}>
                  First page
                </button>
              )}
              {p.nextCursor && (
                <button type="button" onClick={() => setCursor(p.nextCursor!)}>
                  Older leads
                </button>
              )}
            </div>
          </>
        )}
      </Async>
    </Page>
  );
}
