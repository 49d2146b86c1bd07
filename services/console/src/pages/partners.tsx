import { useLocation } from 'preact-iso/router';
import { useState } from 'preact/hooks';
import { api, query } from '../api/client';
import type { Page as ApiPage, Partner, PartnerHealth, PartnerTestReport, Stats } from '../api/types';
import { generalError, useAction } from '../ui/action';
import { Async, ErrorNote, useApi, useInterval } from '../ui/data';
import { formatMoney, formatNumber, formatPercent } from '../ui/format';
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
import { Status } from '../ui/status';
import { Time } from '../ui/time';
import { BASE } from './base';

const dayAgo = () => new Date(Date.now() - 24 * 3600_000).toISOString();

type Limit = keyof Partner['caps'];
/** Every limit a partner may have (ADR 0030): its form field, its row in "Caps in use", and its period. */
const LIMITS: readonly { key: Limit; label: string; per: string; hint: string }[] = [
  { key: 'hourly', label: 'Hourly cap', per: 'h', hint: 'leads per hour' },
  { key: 'daily', label: 'Daily cap', per: 'day', hint: 'leads per day' },
  { key: 'weekly', label: 'Weekly cap', per: 'week', hint: 'leads, Monday to Sunday' },
  { key: 'monthly', label: 'Monthly cap', per: 'month', hint: 'leads per calendar month' },
  { key: 'dailyBudget', label: 'Daily budget', per: 'day', hint: 'the most it pays per day' },
  { key: 'monthlyBudget', label: 'Monthly budget', per: 'month', hint: 'the most it pays per month' },
];
const isBudget = (key: Limit) => key.endsWith('Budget');
const capField = (key: Limit) => `cap_${key}`;

/** Every partner with its state and its last 24 hours. */
export function Partners() {
  const partners = useApi<ApiPage<Partner>>('/partners?limit=500');
  const [since] = useState(dayAgo);
  const stats = useApi<Stats>(`/stats${query({ since })}`);
  const rate = (id: string) => {
    const p = stats.data?.partners.find((x) => x.partnerId === id);
    if (!p) return '—';
    const settled = p.deliveries.accepted + p.deliveries.rejected + p.deliveries.dead_lettered;
    return settled ? formatPercent(p.deliveries.accepted / settled) : '—';
  };
  return (
    <Page
      title="Partners"
      actions={
        <a class="button primary" href={`${BASE}/partners/new`}>
          New partner
        </a>
      }
    >
      <Async
        state={partners}
        what="partners"
        isEmpty={(p) => p.items.length === 0}
        empty="No partner yet: add the first buyer."
      >
        {(p) => (
          <TableWrap label="Partners">
            <table>
              <thead>
                <tr>
                  <th scope="col">Partner</th>
                  <th scope="col">State</th>
                  <th scope="col">Accepted (24 h)</th>
                  <th scope="col">Caps used</th>
                  <th scope="col">Endpoint</th>
                </tr>
              </thead>
              <tbody>
                {p.items.map((x) => (
                  <tr key={x.id}>
                    <td>
                      <a href={`${BASE}/partners/${x.id}`}>{x.name}</a>
                    </td>
                    <td>
                      <Status value={x.status} />
                      {x.pauseReason && <div class="muted">{x.pauseReason}</div>}
                    </td>
                    <td>{rate(x.id)}</td>
                    <td>
                      <CapsInUse partner={x} brief />
                    </td>
                    <td class="mono">{x.url}</td>
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

const JSON_FIELDS = ['headers', 'fieldMap', 'acceptWhen', 'responseMap', 'schedule', 'filters', 'ping'];

function draftOf(p?: Partner): Draft {
  return {
    name: p?.name ?? '',
    url: p?.url ?? '',
    method: p?.method ?? 'POST',
    timeoutMs: String(p?.timeoutMs ?? 10000),
    maxAttempts: String(p?.maxAttempts ?? 8),
    ...Object.fromEntries(LIMITS.map(({ key }) => [capField(key), p?.caps[key] == null ? '' : String(p.caps[key])])),
    conversionPrice: p?.conversionPrice == null ? '' : String(p.conversionPrice),
    returnsWindowDays: String(p?.returns.windowDays ?? 0),
    returnsAutoApprove: p?.returns.autoApprove ?? false,
    price: p?.price == null ? '' : String(p.price),
    pauseAfterFailures: String(p?.pauseAfterFailures ?? 20),
    active: p?.active ?? true,
    secret: '',
    headers: jsonText(p?.headers ?? {}),
    fieldMap: jsonText(p?.fieldMap),
    acceptWhen: jsonText(p?.acceptWhen),
    responseMap: jsonText(p?.responseMap),
    schedule: jsonText(p?.schedule),
    filters: jsonText(p?.filters),
    ping: jsonText(p?.ping),
  };
}

/** The partner form, for a new partner and an existing one; the API's 422 is shown by the field. */
function PartnerForm({ partner, onSaved }: { partner?: Partner; onSaved: (p: Partner) => void }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(partner));
  const [local, setLocal] = useState<Record<string, string>>({});
  const set = (name: string, value: string | boolean) => setDraft({ ...draft, [name]: value });
  const save = useAction(async () => {
    const { values, errors } = parseJsonFields(draft, JSON_FIELDS);
    setLocal(errors);
    if (Object.keys(errors).length) return;
    const body: Record<string, unknown> = {
      name: draft.name,
      url: draft.url,
      method: draft.method,
      timeoutMs: numberOrNull(draft.timeoutMs),
      maxAttempts: numberOrNull(draft.maxAttempts),
      caps: Object.fromEntries(
        LIMITS.map(({ key }) => [key, (isBudget(key) ? amountOrNull : numberOrNull)(draft[capField(key)])]),
      ),
      price: amountOrNull(draft.price),
      conversionPrice: amountOrNull(draft.conversionPrice),
      returns: { windowDays: numberOrNull(draft.returnsWindowDays) ?? 0, autoApprove: draft.returnsAutoApprove },
      pauseAfterFailures: numberOrNull(draft.pauseAfterFailures),
      active: draft.active,
      headers: values.headers ?? {},
      fieldMap: values.fieldMap,
      acceptWhen: values.acceptWhen,
      responseMap: values.responseMap,
      schedule: values.schedule,
      filters: values.filters,
      ping: values.ping,
      ...(draft.secret ? { secret: draft.secret } : {}),
    };
    const saved = partner
      ? await api<Partner>('PATCH', `/partners/${partner.id}`, { body })
      : await api<Partner>('POST', '/partners', { body });
    onSaved(saved);
  });
  const common = { draft, set, error: save.error, local, prefix: 'partner' };
  const fields = [
    '/name',
    '/url',
    '/method',
    '/timeoutMs',
    '/maxAttempts',
    '/caps',
    '/price',
    '/conversionPrice',
    '/returns',
    '/pauseAfterFailures',
    '/active',
    '/secret',
    ...JSON_FIELDS.map((f) => `/${f}`),
  ];
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
      aria-label={partner ? `Edit ${partner.name}` : 'New partner'}
    >
      {save.error && (
        <p class="state error" role="alert">
          {generalError(save.error, fields)}
        </p>
      )}
      <div class="form-grid">
        <TextInput {...common} name="name" label="Name" required />
        <TextInput {...common} name="url" label="Endpoint URL" type="url" required />
        <SelectInput {...common} name="method" label="Method" options={['POST', 'PUT', 'PATCH']} />
        <TextInput {...common} name="timeoutMs" label="Timeout (ms)" type="number" />
        <TextInput {...common} name="maxAttempts" label="Attempts before dead letter" type="number" />
        {LIMITS.map(({ key, label, hint }) => (
          <TextInput
            key={key}
            {...common}
            name={capField(key)}
            pointer={`/caps/${key}`}
            label={label}
            type={isBudget(key) ? 'text' : 'number'}
            hint={`${hint}; empty: ${isBudget(key) ? 'none' : 'no cap'}`}
          />
        ))}
        <TextInput {...common} name="price" label="Price per lead" hint="unless its answer says" />
        <TextInput
          {...common}
          name="conversionPrice"
          label="Price per conversion"
          hint="when it reports one without an amount"
        />
        <TextInput
          {...common}
          name="returnsWindowDays"
          pointer="/returns/windowDays"
          label="Returns window (days)"
          type="number"
          hint="0: no returns"
        />
        <TextInput {...common} name="pauseAfterFailures" label="Pause after failures in a row" type="number" />
        <TextInput
          {...common}
          name="secret"
          label="Signing secret"
          type="password"
          hint={partner?.hasSecret ? 'set; leave empty to keep it' : 'empty: deliveries are not signed'}
        />
      </div>
      <CheckInput
        {...common}
        name="returnsAutoApprove"
        pointer="/returns/autoApprove"
        label="Approve its returns at once (else they wait in the returns queue)"
      />
      <CheckInput {...common} name="active" label="Active (takes leads)" />
      <div class="form-grid">
        <JsonInput {...common} name="headers" label="Headers" hint='e.g. {"x-api-key": "…"}' />
        <JsonInput
          {...common}
          name="fieldMap"
          label="Field map"
          hint='their field → lead path, e.g. {"first_name": "name"}'
        />
        <JsonInput {...common} name="acceptWhen" label="Accepted when" hint='e.g. {"path": "status", "equals": "ok"}' />
        <JsonInput {...common} name="responseMap" label="Response map" />
        <JsonInput
          {...common}
          name="schedule"
          label="Schedule"
          hint='e.g. {"timezone": "America/New_York", "days": {"mon": ["09:00-17:00"]}}'
        />
        <JsonInput {...common} name="filters" label="Filters" hint='e.g. {"geo": ["US"]}' />
        <JsonInput
          {...common}
          name="ping"
          label="Ping (auctions)"
          hint='how it is asked for a bid on an auction route, never with contact data, e.g. {"url": "https://…/ping", "bidPath": "bid"}; empty: it bids its price'
        />
      </div>
      <button type="submit" class="primary" disabled={save.busy}>
        {save.busy ? 'Saving…' : partner ? 'Save changes' : 'Create partner'}
      </button>
    </form>
  );
}

export function NewPartner() {
  const { route } = useLocation();
  return (
    <Page title="New partner">
      <section class="panel">
        <PartnerForm onSaved={(p) => route(`${BASE}/partners/${p.id}`)} />
      </section>
    </Page>
  );
}

/** One partner: state and health, pause and resume, a test send, and its settings. */
export function PartnerPage({ id }: { id: string }) {
  const partner = useApi<Partner>(`/partners/${encodeURIComponent(id)}`);
  const health = useApi<PartnerHealth>(`/partners/${encodeURIComponent(id)}/health`);
  const [notice, setNotice] = useState<string>();
  const toggle = useAction(async (verb: 'pause' | 'resume') => {
    const p = await api<Partner & { requeued?: number }>('POST', `/partners/${id}/${verb}`);
    setNotice(
      verb === 'pause'
        ? `${p.name} is paused: new leads skip it and its retries wait.`
        : `${p.name} is active again${p.requeued ? `; ${p.requeued} waiting deliveries were requeued` : ''}.`,
    );
    partner.reload();
  });
  const [report, setReport] = useState<PartnerTestReport>();
  const test = useAction(async () => {
    setReport(undefined);
    setReport(await api<PartnerTestReport>('POST', `/partners/${id}/test`));
  });
  return (
    <Page title={partner.data ? partner.data.name : 'Partner'}>
      <Async state={partner} what="the partner">
        {(p) => (
          <>
            <div class="panel">
              <p>
                <Status value={p.status} />
                {p.pausedAt && (
                  <>
                    {' '}
                    since <Time iso={p.pausedAt} />
                  </>
                )}
                {p.pauseReason && <> — {p.pauseReason}</>}
              </p>
              <div class="button-row">
                {p.status === 'paused' ? (
                  <button
                    type="button"
                    class="primary"
                    disabled={toggle.busy}
                    onClick={() => void toggle.run('resume')}
                  >
                    Resume
                  </button>
                ) : (
                  <button type="button" disabled={toggle.busy || !p.active} onClick={() => void toggle.run('pause')}>
                    Pause
                  </button>
                )}
                <button type="button" disabled={test.busy} onClick={() => void test.run()}>
                  {test.busy ? 'Sending a test lead…' : 'Send a test lead'}
                </button>
              </div>
              {notice && (
                <p class="notice" role="status">
                  {notice}
                </p>
              )}
              {toggle.error && <ErrorNote error={toggle.error} />}
              {test.error && <ErrorNote error={test.error} />}
            </div>
            {report && <TestReport report={report} />}
            <Section title="Caps in use">
              <CapsInUse partner={p} />
            </Section>
            <Section title="Status pull">
              <StatusPull partner={p} reload={partner.reload} />
            </Section>
            <Section title="Last 24 hours">
              <Async state={health} what="the partner’s health">
                {(h) => <Health health={h} />}
              </Async>
            </Section>
            <Section title="Settings">
              <PartnerForm
                key={p.updatedAt}
                partner={p}
                onSaved={() => {
                  setNotice('Saved.');
                  partner.reload();
                }}
              />
            </Section>
          </>
        )}
      </Async>
    </Page>
  );
}

function Health({ health }: { health: PartnerHealth }) {
  return (
    <dl class="props">
      <dt>Accepted</dt>
      <dd>{health.successRate == null ? '—' : formatPercent(health.successRate)}</dd>
      <dt>Deliveries</dt>
      <dd>
        {health.deliveries.accepted} accepted, {health.deliveries.rejected} rejected, {health.deliveries.dead_lettered}{' '}
        dead-lettered, {health.deliveries.pending} pending ({health.attempts} requests)
      </dd>
      <dt>Failures in a row</dt>
      <dd>
        {health.consecutiveFailures} (pauses at {health.pauseAfterFailures})
      </dd>
      <dt>Last error</dt>
      <dd>
        {health.lastError ? (
          <>
            <Time iso={health.lastError.at} />: {health.lastError.outcome}
            {health.lastError.httpStatus != null && ` (HTTP ${health.lastError.httpStatus})`}
            {health.lastError.error && ` — ${health.lastError.error}`}
          </>
        ) : (
          'none'
        )}
      </dd>
    </dl>
  );
}

/**
 * How much of each of its limits the partner has used in the current period (ADR 0030: counted as the worker
 * counts them); `brief` for the list, a table with a meter per limit on its page.
 */
function CapsInUse({ partner, brief }: { partner: Partner; brief?: boolean }) {
  const used = LIMITS.flatMap(({ key, label, per }) => {
    const c = partner.capsInUse[key];
    return c ? [{ key, label, per, ...c }] : [];
  });
  const show = (key: Limit, v: number) => (isBudget(key) ? formatMoney(v) : formatNumber(v));
  if (used.length === 0) return <span class="muted">no caps</span>;
  if (brief)
    return (
      <ul class="plain">
        {used.map((c) => (
          <li key={c.key}>
            {show(c.key, c.used)} of {show(c.key, c.limit)}
            {isBudget(c.key) ? ' spent' : ''} / {c.per}
          </li>
        ))}
      </ul>
    );
  return (
    <TableWrap label="Caps in use">
      <table>
        <thead>
          <tr>
            <th scope="col">Limit</th>
            <th scope="col">Used</th>
            <th scope="col" class="num">
              Left
            </th>
            <th scope="col">Period since</th>
          </tr>
        </thead>
        <tbody>
          {used.map((c) => (
            <tr key={c.key}>
              <th scope="row">{c.label}</th>
              <td>
                <meter
                  min={0}
                  max={c.limit || 1}
                  value={c.used}
                  aria-label={`${c.label}: ${show(c.key, c.used)} of ${show(c.key, c.limit)} used`}
                />{' '}
                {show(c.key, c.used)} of {show(c.key, c.limit)}
              </td>
              <td class="num">{show(c.key, c.remaining)}</td>
              <td>
                <Time iso={c.periodStart} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

type PullView = NonNullable<Partner['statusPull']>;

/**
 * The partner's status pull (ADR 0029): its last run and the next, a pull now, and its settings. While a pull is
 * due or running the section asks again every second, so the operator sees it end without reloading.
 */
function StatusPull({ partner, reload }: { partner: Partner; reload: () => void }) {
  const pull = partner.statusPull;
  const [notice, setNotice] = useState<string>();
  const [asked, setAsked] = useState<string | null>();
  const now = useAction(async () => {
    await api<PullView>('POST', `/partners/${partner.id}/status-pull`);
    setAsked(pull?.lastRunAt ?? null);
    setNotice('The pull is due now: a worker starts it within a few seconds.');
    reload();
  });
  const waiting =
    pull !== null &&
    partner.status === 'active' &&
    (pull.running || pull.nextRunAt === null || (asked !== undefined && pull.lastRunAt === asked));
  useInterval(() => {
    if (waiting) reload();
  }, 1000);
  return (
    <>
      {pull ? (
        <>
          <dl class="props">
            <dt>From</dt>
            <dd class="mono">
              {pull.method} {pull.url}
            </dd>
            <dt>Every</dt>
            <dd>
              {formatNumber(Math.round(pull.intervalSeconds / 60))} min, the last {pull.lookbackHours} h of sales
            </dd>
            <dt>Last pull</dt>
            <dd aria-live="polite">
              <LastPull pull={pull} />
            </dd>
            <dt>Next pull</dt>
            <dd>
              {partner.status !== 'active' ? (
                `not while ${partner.status}`
              ) : pull.nextRunAt ? (
                <Time iso={pull.nextRunAt} />
              ) : (
                'due now'
              )}
            </dd>
          </dl>
          <div class="button-row">
            <button type="button" disabled={now.busy || pull.running} onClick={() => void now.run()}>
              Pull statuses now
            </button>
            <button type="button" onClick={reload}>
              Refresh
            </button>
          </div>
        </>
      ) : (
        <p class="muted">
          Its statuses are not pulled: it reports them itself (feedback key {partner.feedbackKeyPrefix ?? 'not issued'}
          …), or not at all.
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {now.error && <ErrorNote error={now.error} />}
      <StatusPullForm
        key={partner.updatedAt}
        partner={partner}
        onSaved={(text) => {
          setAsked(undefined);
          setNotice(text);
          reload();
        }}
      />
    </>
  );
}

function LastPull({ pull }: { pull: PullView }) {
  if (pull.running) return <>running now</>;
  if (pull.lastRunAt == null) return <>none yet</>;
  return (
    <>
      <Time iso={pull.lastRunAt} />:{' '}
      {pull.ok ? `read, ${pull.updated} sales changed` : `failed — ${pull.error ?? 'no reason given'}`}
    </>
  );
}

/** The status-pull settings' fields: the draft's name, the API's field under `/statusPull`, label and hint. */
const PULL_TEXT = [
  ['pullUrl', 'url', 'Status API URL', 'may hold {{from}} and {{to}}, the ends of the look-back window'],
  ['pullInterval', 'intervalSeconds', 'Every (seconds)', 'at least 10; default 300'],
  ['pullLookback', 'lookbackHours', 'Look back (hours)', 'how far back each pull asks; default 72'],
  ['pullItems', 'itemsPath', 'Items path', 'where the array of items is, e.g. data'],
  ['pullReference', 'referencePath', 'Reference path', 'where an item names its lead, e.g. lead_id'],
  ['pullStatus', 'statusPath', 'Status path', 'where an item’s status is, e.g. status'],
  ['pullAmount', 'amountPath', 'Amount path', 'optional: an item’s conversion amount'],
  ['pullAt', 'atPath', 'Time path', 'optional: when the item’s status was reached'],
  ['pageParam', 'page/param', 'Page parameter', 'optional: the page number’s parameter, from 1'],
  ['pageSizeParam', 'page/sizeParam', 'Page size parameter', 'optional'],
  ['pageSize', 'page/size', 'Page size', 'items per page; a shorter page is the last'],
] as const;
const PULL_NUMBERS = new Set(['intervalSeconds', 'lookbackHours', 'page/size']);
/** The pointers the form shows beside a field; any other error of the API is shown above the form. */
const PULL_FIELDS = [
  '/statusPull/method',
  '/statusPull/headers',
  '/statusMap',
  ...PULL_TEXT.map(([, path]) => `/statusPull/${path}`),
];

function pullDraft(p: Partner): Draft {
  const pull = p.statusPull;
  const value = (path: string): unknown =>
    path.split('/').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], pull ?? undefined);
  return {
    pulled: pull !== null,
    pullMethod: pull?.method ?? 'GET',
    pullHeaders: jsonText(pull?.headers ?? {}),
    statusMap: jsonText(p.statusMap),
    ...Object.fromEntries(
      PULL_TEXT.map(([name, path]) => {
        const v = value(path);
        return [name, typeof v === 'string' || typeof v === 'number' ? String(v) : ''];
      }),
    ),
  };
}

/** The statusPull body from the draft: empty optional fields left out, so the API's defaults apply. */
function pullBody(draft: Draft, headers: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = { method: draft.pullMethod, headers: headers ?? {} };
  for (const [name, path] of PULL_TEXT) {
    const text = String(draft[name] ?? '').trim();
    if (!text) continue;
    const value = PULL_NUMBERS.has(path) ? numberOrNull(text) : text;
    const [key, sub] = path.split('/') as [string, string | undefined];
    if (sub) body[key] = { ...(body[key] as object | undefined), [sub]: value };
    else body[key] = value;
  }
  return body;
}

/** Edits the partner's `statusPull` and `statusMap` (PATCH): the API's 422 shown by the field. */
function StatusPullForm({ partner, onSaved }: { partner: Partner; onSaved: (notice: string) => void }) {
  const [draft, setDraft] = useState<Draft>(() => pullDraft(partner));
  const [local, setLocal] = useState<Record<string, string>>({});
  const set = (name: string, value: string | boolean) => setDraft({ ...draft, [name]: value });
  const save = useAction(async () => {
    const { values, errors } = parseJsonFields(draft, ['pullHeaders', 'statusMap']);
    setLocal(errors);
    if (Object.keys(errors).length) return;
    const statusPull = draft.pulled ? pullBody(draft, values.pullHeaders) : null;
    await api<Partner>('PATCH', `/partners/${partner.id}`, { body: { statusPull, statusMap: values.statusMap } });
    onSaved(statusPull ? 'Status pull saved.' : 'Status pull turned off.');
  });
  const common = { draft, set, error: save.error, local, prefix: 'pull' };
  return (
    <form
      aria-label="Status pull settings"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <h3>Settings</h3>
      {save.error && (
        <p class="state error" role="alert">
          {generalError(save.error, PULL_FIELDS)}
        </p>
      )}
      <CheckInput {...common} name="pulled" pointer="/statusPull/on" label="Pull its statuses from its API" />
      {draft.pulled && (
        <div class="form-grid">
          <SelectInput
            {...common}
            name="pullMethod"
            pointer="/statusPull/method"
            label="Method"
            options={['GET', 'POST']}
          />
          {PULL_TEXT.map(([name, path, label, hint]) => (
            <TextInput
              key={name}
              {...common}
              name={name}
              pointer={`/statusPull/${path}`}
              label={label}
              hint={hint}
              type={PULL_NUMBERS.has(path) ? 'number' : path === 'url' ? 'url' : 'text'}
              required={['url', 'itemsPath', 'referencePath', 'statusPath'].includes(path)}
            />
          ))}
          <JsonInput
            {...common}
            name="pullHeaders"
            pointer="/statusPull/headers"
            label="Pull headers"
            hint='e.g. {"x-api-key": "…"}'
          />
        </div>
      )}
      <JsonInput
        {...common}
        name="statusMap"
        label="Status map"
        hint='its statuses → events, e.g. {"Deposit": "converted", "Chargeback": "reversed"}; empty: none'
      />
      <button type="submit" disabled={save.busy}>
        {save.busy ? 'Saving…' : 'Save status pull'}
      </button>
    </form>
  );
}

function TestReport({ report }: { report: PartnerTestReport }) {
  return (
    <Section title="Test send">
      <p role="status">
        <Status value={report.outcome} /> {report.httpStatus != null ? `HTTP ${report.httpStatus}` : 'no answer'} in{' '}
        {report.durationMs} ms{report.reason && ` — ${report.reason}`}
        {report.error && ` — ${report.error}`}
        {report.note && <span class="muted"> ({report.note})</span>}
      </p>
      <div class="grid">
        <div>
          <h3>Request</h3>
          <pre>{`${report.request.method} ${report.request.url}\n${Object.entries(report.request.headers)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n')}\n\n${JSON.stringify(report.request.body, null, 2)}`}</pre>
        </div>
        <div>
          <h3>Answer</h3>
          <pre>{report.response ?? '(none)'}</pre>
        </div>
      </div>
    </Section>
  );
}
