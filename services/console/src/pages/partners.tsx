import { useLocation } from 'preact-iso/router';
import { useState } from 'preact/hooks';
import { api, query } from '../api/client';
import type { Page as ApiPage, Partner, PartnerHealth, PartnerTestReport, Stats } from '../api/types';
import { generalError, useAction } from '../ui/action';
import { Async, ErrorNote, useApi } from '../ui/data';
import { formatPercent } from '../ui/format';
import {
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
                  <th scope="col">Caps</th>
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
                      {x.caps.hourly ?? '∞'}/h, {x.caps.daily ?? '∞'}/day
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

const JSON_FIELDS = ['headers', 'fieldMap', 'acceptWhen', 'responseMap', 'schedule', 'filters'];

function draftOf(p?: Partner): Draft {
  return {
    name: p?.name ?? '',
    url: p?.url ?? '',
    method: p?.method ?? 'POST',
    timeoutMs: String(p?.timeoutMs ?? 10000),
    maxAttempts: String(p?.maxAttempts ?? 8),
    capHourly: p?.caps.hourly == null ? '' : String(p.caps.hourly),
    capDaily: p?.caps.daily == null ? '' : String(p.caps.daily),
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
      caps: { hourly: numberOrNull(draft.capHourly), daily: numberOrNull(draft.capDaily) },
      price: numberOrNull(draft.price),
      pauseAfterFailures: numberOrNull(draft.pauseAfterFailures),
      active: draft.active,
      headers: values.headers ?? {},
      fieldMap: values.fieldMap,
      acceptWhen: values.acceptWhen,
      responseMap: values.responseMap,
      schedule: values.schedule,
      filters: values.filters,
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
        <TextInput
          {...common}
          name="capHourly"
          pointer="/caps/hourly"
          label="Hourly cap"
          type="number"
          hint="empty: no cap"
        />
        <TextInput
          {...common}
          name="capDaily"
          pointer="/caps/daily"
          label="Daily cap"
          type="number"
          hint="empty: no cap"
        />
        <TextInput {...common} name="price" label="Price per lead" type="number" />
        <TextInput {...common} name="pauseAfterFailures" label="Pause after failures in a row" type="number" />
        <TextInput
          {...common}
          name="secret"
          label="Signing secret"
          type="password"
          hint={partner?.hasSecret ? 'set; leave empty to keep it' : 'empty: deliveries are not signed'}
        />
      </div>
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
  const cap = (c: PartnerHealth['caps']['hour'], what: string) =>
    c.limit == null ? `${c.used} this ${what} (no cap)` : `${c.used} of ${c.limit} this ${what}`;
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
      <dt>Hourly cap</dt>
      <dd>{cap(health.caps.hour, 'hour')}</dd>
      <dt>Daily cap</dt>
      <dd>{cap(health.caps.day, 'day')}</dd>
    </dl>
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
