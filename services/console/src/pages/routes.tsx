import { useLocation } from 'preact-iso/router';
import { useState } from 'preact/hooks';
import { api } from '../api/client';
import type { DryRunAnswer, Page as ApiPage, Partner, Route } from '../api/types';
import { generalError, useAction } from '../ui/action';
import { Async, ErrorNote, useApi } from '../ui/data';
import { describedBy, Field } from '../ui/field';
import { formatNumber, humanise } from '../ui/format';
import {
  amountOrNull,
  CheckInput,
  JsonInput,
  jsonText,
  numberOrNull,
  parseJsonFields,
  SelectInput,
  TextInput,
  type Draft,
} from '../ui/form';
import { Page, Section, TableWrap } from '../ui/page';
import { Time } from '../ui/time';
import { BASE } from './base';

/** Routing rules, highest priority first. */
export function Routes() {
  const routes = useApi<ApiPage<Route>>('/routes?limit=500');
  return (
    <Page
      title="Routes"
      actions={
        <a class="button primary" href={`${BASE}/routes/new`}>
          New route
        </a>
      }
    >
      <Async
        state={routes}
        what="routes"
        isEmpty={(p) => p.items.length === 0}
        empty="No route yet: leads stay unmatched until one exists."
      >
        {(p) => (
          <TableWrap label="Routes">
            <table>
              <thead>
                <tr>
                  <th scope="col">Route</th>
                  <th scope="col">Priority</th>
                  <th scope="col">Strategy</th>
                  <th scope="col">Partners</th>
                  <th scope="col">Active</th>
                </tr>
              </thead>
              <tbody>
                {[...p.items]
                  .sort((a, b) => b.priority - a.priority)
                  .map((r) => (
                    <tr key={r.id}>
                      <td>
                        <a href={`${BASE}/routes/${r.id}`}>{r.name}</a>
                      </td>
                      <td>{r.priority}</td>
                      <td>{humanise(r.strategy)}</td>
                      <td>{r.partners.length}</td>
                      <td>{r.active ? 'yes' : 'no'}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </Async>
    </Page>
  );
}

function draftOf(r?: Route): Draft {
  const d: Draft = {
    name: r?.name ?? '',
    priority: String(r?.priority ?? 0),
    strategy: r?.strategy ?? 'priority',
    maxDeliveries: String(r?.maxDeliveries ?? 1),
    active: r?.active ?? true,
    filters: jsonText(r?.filters),
    auctionTimeoutMs: r?.auction ? String(r.auction.timeoutMs) : '',
    auctionFloor: r?.auction ? String(r.auction.floor) : '',
  };
  for (const p of r?.partners ?? []) {
    d[`p:${p.partnerId}`] = true;
    d[`w:${p.partnerId}`] = String(p.weight);
  }
  return d;
}

/** The route as the API takes it, from the form (or the JSON errors found first). */
function bodyOf(draft: Draft, partners: Partner[]) {
  const { values, errors } = parseJsonFields(draft, ['filters']);
  const chosen = partners.filter((p) => draft[`p:${p.id}`] === true);
  return {
    errors,
    body: {
      name: draft.name,
      priority: numberOrNull(draft.priority),
      strategy: draft.strategy,
      maxDeliveries: numberOrNull(draft.maxDeliveries),
      active: draft.active,
      filters: values.filters ?? null,
      // An auction's deadline and floor; empty: the defaults. Other strategies have none.
      auction:
        draft.strategy === 'auction'
          ? {
              ...(draft.auctionTimeoutMs !== '' ? { timeoutMs: numberOrNull(draft.auctionTimeoutMs) } : {}),
              ...(draft.auctionFloor !== '' ? { floor: amountOrNull(draft.auctionFloor) } : {}),
            }
          : null,
      partners: chosen.map((p) => ({ partnerId: p.id, weight: numberOrNull(draft[`w:${p.id}`]) ?? 1 })),
    },
  };
}

const FIELDS = [
  '/name',
  '/priority',
  '/strategy',
  '/maxDeliveries',
  '/active',
  '/filters',
  '/partners',
  '/auction/timeoutMs',
  '/auction/floor',
];

function RouteForm({ route, onSaved }: { route?: Route; onSaved: (r: Route) => void }) {
  const partners = useApi<ApiPage<Partner>>('/partners?limit=500');
  const [draft, setDraft] = useState<Draft>(() => draftOf(route));
  const [local, setLocal] = useState<Record<string, string>>({});
  const set = (name: string, value: string | boolean) => setDraft({ ...draft, [name]: value });
  const [dry, setDry] = useState<DryRunAnswer>();
  const [leads, setLeads] = useState('1000');

  const save = useAction(async () => {
    run.clear();
    const { body, errors } = bodyOf(draft, partners.data?.items ?? []);
    setLocal(errors);
    if (Object.keys(errors).length) return;
    onSaved(
      route
        ? await api<Route>('PATCH', `/routes/${route.id}`, { body })
        : await api<Route>('POST', '/routes', { body }),
    );
  });
  const run = useAction(async () => {
    save.clear();
    setDry(undefined);
    const { body, errors } = bodyOf(draft, partners.data?.items ?? []);
    setLocal(errors);
    if (Object.keys(errors).length) return;
    setDry(
      await api<DryRunAnswer>('POST', '/routes/dry-run', {
        body: { route: { ...body, ...(route ? { id: route.id } : {}) }, limit: numberOrNull(leads) },
      }),
    );
  });
  // The dry run's errors name `/route/...`: shown by the same fields as a save's.
  const error = save.error ?? run.error;
  const pointer = run.error && !save.error ? (f: string) => `/route${f}` : (f: string) => f;
  const common = { draft, set, error, local, prefix: 'route' };
  const names = new Map((partners.data?.items ?? []).map((p) => [p.id, p.name]));
  return (
    <>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save.run();
        }}
        aria-label={route ? `Edit ${route.name}` : 'New route'}
      >
        {error && (
          <p class="state error" role="alert">
            {generalError(error, FIELDS.map(pointer).concat(['/limit']))}
          </p>
        )}
        <div class="form-grid">
          <TextInput {...common} pointer={pointer('/name')} name="name" label="Name" required />
          <TextInput
            {...common}
            pointer={pointer('/priority')}
            name="priority"
            label="Priority"
            type="number"
            hint="the highest matching route decides"
          />
          <SelectInput
            {...common}
            pointer={pointer('/strategy')}
            name="strategy"
            label="Strategy"
            options={['priority', 'round_robin', 'weighted', 'auction']}
            hint="auction: every partner is pinged, the lead goes to the highest bid"
          />
          <TextInput
            {...common}
            pointer={pointer('/maxDeliveries')}
            name="maxDeliveries"
            label="Buyers per lead"
            type="number"
          />
          {draft.strategy === 'auction' && (
            <>
              <TextInput
                {...common}
                pointer={pointer('/auction/timeoutMs')}
                name="auctionTimeoutMs"
                label="Auction deadline (ms)"
                type="number"
                hint="later answers are no bids; empty: 800"
              />
              <TextInput
                {...common}
                pointer={pointer('/auction/floor')}
                name="auctionFloor"
                label="Floor"
                hint="bids below it are no bids; empty: 0"
              />
            </>
          )}
        </div>
        <CheckInput {...common} pointer={pointer('/active')} name="active" label="Active" />
        <JsonInput
          {...common}
          pointer={pointer('/filters')}
          name="filters"
          label="Filters"
          hint='JSON; empty for every lead. e.g. {"geo": ["US"], "fields": [{"field": "fields.age", "op": "gte", "value": 21}]}'
        />
        <fieldset class="field">
          <legend>Partners, in order</legend>
          {error?.forField(pointer('/partners')) && (
            <p class="field-error" role="alert">
              {error.forField(pointer('/partners'))}
            </p>
          )}
          <Async state={partners} what="partners" isEmpty={(p) => p.items.length === 0} empty="Create a partner first.">
            {(p) => (
              <ul class="plain">
                {p.items.map((x) => (
                  <li key={x.id} class="button-row">
                    <label class="check">
                      <input
                        type="checkbox"
                        checked={draft[`p:${x.id}`] === true}
                        onChange={(e) => set(`p:${x.id}`, e.currentTarget.checked)}
                      />
                      {x.name}
                    </label>
                    {draft.strategy === 'weighted' && draft[`p:${x.id}`] === true && (
                      <input
                        type="number"
                        aria-label={`Weight of ${x.name}`}
                        value={String(draft[`w:${x.id}`] ?? '1')}
                        onInput={(e) => set(`w:${x.id}`, e.currentTarget.value)}
                      />
                    )}
                  </li>
                ))}
              </ul>
            )}
          </Async>
        </fieldset>
        <div class="button-row">
          <button type="submit" class="primary" disabled={save.busy}>
            {save.busy ? 'Saving…' : route ? 'Save route' : 'Create route'}
          </button>
        </div>
      </form>
      <Section title="Dry run">
        <p>
          Route the last leads by this draft (the other routes as stored) beside the rules as stored and what really
          happened. Nothing is sent or saved.
        </p>
        <div class="button-row">
          <Field id="dry-leads" label="Leads" error={error?.forField('/limit')}>
            <input
              type="number"
              min={1}
              max={10000}
              value={leads}
              onInput={(e) => setLeads(e.currentTarget.value)}
              {...describedBy('dry-leads', undefined, error?.forField('/limit'))}
            />
          </Field>
          <button type="button" disabled={run.busy} onClick={() => void run.run()}>
            {run.busy ? 'Replaying…' : 'Run a dry run'}
          </button>
        </div>
        {run.error && !error && <ErrorNote error={run.error} />}
        {dry && <DryRun answer={dry} names={names} />}
      </Section>
    </>
  );
}

function DryRun({ answer, names }: { answer: DryRunAnswer; names: Map<string, string> }) {
  const name = (id: string) => names.get(id) ?? id.slice(-8);
  const list = (ids: string[]) => (ids.length ? ids.map(name).join(', ') : 'nobody');
  return (
    <div role="status" aria-live="polite">
      <p>
        Replayed <strong>{formatNumber(answer.leads)}</strong> leads
        {answer.from && answer.to && (
          <>
            {' '}
            from <Time iso={answer.from} /> to <Time iso={answer.to} />
          </>
        )}
        : the draft changes the first offers of <strong>{formatNumber(answer.changed)}</strong>.
      </p>
      <TableWrap label="Dry run by partner">
        <table>
          <caption class="sr-only">Leads offered first, by partner</caption>
          <thead>
            <tr>
              <th scope="col">Partner</th>
              <th scope="col">Draft</th>
              <th scope="col">Rules now</th>
              <th scope="col">Really offered</th>
            </tr>
          </thead>
          <tbody>
            {answer.partners.map((p) => (
              <tr key={p.partnerId}>
                <th scope="row">{p.name}</th>
                <td>{formatNumber(p.draft)}</td>
                <td>{formatNumber(p.current)}</td>
                <td>{formatNumber(p.actual)}</td>
              </tr>
            ))}
            <tr>
              <th scope="row">No partner</th>
              <td>{formatNumber(answer.unrouted.draft)}</td>
              <td>{formatNumber(answer.unrouted.current)}</td>
              <td>{formatNumber(answer.unrouted.actual)}</td>
            </tr>
          </tbody>
        </table>
      </TableWrap>
      {answer.sample.length > 0 && (
        <>
          <h3>Leads it changes (most recent)</h3>
          <TableWrap label="Leads the draft changes">
            <table>
              <thead>
                <tr>
                  <th scope="col">Lead</th>
                  <th scope="col">Draft</th>
                  <th scope="col">Rules now</th>
                  <th scope="col">Really</th>
                </tr>
              </thead>
              <tbody>
                {answer.sample.map((s) => (
                  <tr key={s.leadId}>
                    <td>
                      <a class="mono" href={`${BASE}/leads/${s.leadId}`}>
                        {s.leadId.slice(-8)}
                      </a>
                    </td>
                    <td>
                      {list(s.draft.offered)}
                      {s.draft.reason && <div class="muted">{s.draft.reason}</div>}
                    </td>
                    <td>{list(s.current.offered)}</td>
                    <td>{list(s.actual.offered)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </>
      )}
      <details>
        <summary>What a replay cannot check</summary>
        <ul>
          {answer.notReplayed.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      </details>
    </div>
  );
}

export function NewRoute() {
  const { route } = useLocation();
  return (
    <Page title="New route">
      <section class="panel">
        <RouteForm onSaved={(r) => route(`${BASE}/routes/${r.id}`)} />
      </section>
    </Page>
  );
}

export function RoutePage({ id }: { id: string }) {
  const route = useApi<Route>(`/routes/${encodeURIComponent(id)}`);
  const [notice, setNotice] = useState<string>();
  return (
    <Page title={route.data ? `Route ${route.data.name}` : 'Route'}>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <Async state={route} what="the route">
        {(r) => (
          <section class="panel">
            <RouteForm
              key={r.updatedAt}
              route={r}
              onSaved={() => {
                setNotice('Saved: the next lead is routed by it.');
                route.reload();
              }}
            />
          </section>
        )}
      </Async>
    </Page>
  );
}
