import { useState } from 'preact/hooks';
import { api } from '../api/client';
import { PAYOUT_MODELS, type Page as ApiPage, type Source, type SourceWithKey } from '../api/types';
import { generalError, useAction } from '../ui/action';
import { Async, ErrorNote, useApi } from '../ui/data';
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
import { CopyButton } from '../ui/copy';
import { Page, Section, TableWrap } from '../ui/page';
import { Time } from '../ui/time';
import { BASE } from './base';
import { snippets } from './snippets';

/** A key shown once: copy it now, it is never shown again. */
function OnceKey({ label, value }: { label: string; value: string }) {
  return (
    <div class="warning" role="status">
      <p>
        <strong>{label}</strong> — shown only now; store it where the source can use it.
      </p>
      <div class="secret">
        <code>{value}</code>
        <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />
      </div>
    </div>
  );
}

export function Sources() {
  const sources = useApi<ApiPage<Source>>('/sources?limit=500');
  const [draft, setDraft] = useState<Draft>({
    name: '',
    postbackUrl: '',
    rateLimitPerMinute: '',
    duplicateWindowHours: '24',
  });
  const [created, setCreated] = useState<SourceWithKey>();
  const set = (name: string, value: string | boolean) => setDraft({ ...draft, [name]: value });
  const create = useAction(async () => {
    const s = await api<SourceWithKey>('POST', '/sources', {
      body: {
        name: draft.name,
        ...(draft.postbackUrl ? { postbackUrl: draft.postbackUrl } : {}),
        rateLimitPerMinute: numberOrNull(draft.rateLimitPerMinute),
        duplicateWindowHours: numberOrNull(draft.duplicateWindowHours) ?? 0,
      },
    });
    setCreated(s);
    setDraft({ name: '', postbackUrl: '', rateLimitPerMinute: '', duplicateWindowHours: '24' });
    sources.reload();
  });
  const common = { draft, set, error: create.error, prefix: 'source' };
  return (
    <Page title="Sources">
      <Section title="New source">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void create.run();
          }}
          aria-label="New source"
        >
          {create.error && (
            <p class="state error" role="alert">
              {generalError(create.error, ['/name', '/postbackUrl', '/rateLimitPerMinute', '/duplicateWindowHours'])}
            </p>
          )}
          <div class="form-grid">
            <TextInput {...common} name="name" label="Name" required />
            <TextInput
              {...common}
              name="postbackUrl"
              label="Postback URL"
              type="url"
              hint="optional: told of each lead's outcome"
            />
            <TextInput
              {...common}
              name="rateLimitPerMinute"
              label="Leads per minute"
              type="number"
              hint="empty: no limit"
            />
            <TextInput
              {...common}
              name="duplicateWindowHours"
              label="Duplicate window (hours)"
              type="number"
              hint="0: no duplicate check"
            />
          </div>
          <button type="submit" class="primary" disabled={create.busy}>
            Create source
          </button>
        </form>
        {created && (
          <>
            <p>
              <a href={`${BASE}/sources/${created.id}`}>{created.name}</a> is ready.
            </p>
            <OnceKey label="API key" value={created.apiKey} />
            {created.postbackSecret && <OnceKey label="Postback secret" value={created.postbackSecret} />}
          </>
        )}
      </Section>
      <Async state={sources} what="sources" isEmpty={(p) => p.items.length === 0} empty="No source yet.">
        {(p) => (
          <TableWrap label="Sources">
            <table>
              <thead>
                <tr>
                  <th scope="col">Source</th>
                  <th scope="col">Key</th>
                  <th scope="col">Limit</th>
                  <th scope="col">Active</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {p.items.map((s) => (
                  <tr key={s.id}>
                    <td>
                      <a href={`${BASE}/sources/${s.id}`}>{s.name}</a>
                    </td>
                    <td class="mono">{s.apiKeyPrefix}…</td>
                    <td>{s.rateLimitPerMinute ?? '∞'}/min</td>
                    <td>{s.active ? 'yes' : 'no'}</td>
                    <td>
                      <Time iso={s.createdAt} />
                    </td>
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

/** One source: its settings, a new key, and its integration page (endpoint and ready requests). */
export function SourcePage({ id }: { id: string }) {
  const source = useApi<Source>(`/sources/${encodeURIComponent(id)}`);
  const [key, setKey] = useState<string>();
  const rotate = useAction(async () => {
    if (!window.confirm('Issue a new API key? The current one stops working at once.')) return;
    const s = await api<SourceWithKey>('POST', `/sources/${id}/rotate-key`);
    setKey(s.apiKey);
    source.reload();
  });
  return (
    <Page title={source.data ? source.data.name : 'Source'}>
      <Async state={source} what="the source">
        {(s) => (
          <>
            <Section title="Key">
              <p>
                The current key starts with <code>{s.apiKeyPrefix}</code>.
              </p>
              <button type="button" disabled={rotate.busy} onClick={() => void rotate.run()}>
                Rotate the key
              </button>
              {rotate.error && <ErrorNote error={rotate.error} />}
              {key && <OnceKey label="API key" value={key} />}
            </Section>
            <Integration source={s} apiKey={key} />
            <Section title="Settings">
              <SourceForm key={s.updatedAt} source={s} saved={source.reload} />
            </Section>
          </>
        )}
      </Async>
    </Page>
  );
}

function SourceForm({ source, saved }: { source: Source; saved: () => void }) {
  const [draft, setDraft] = useState<Draft>({
    name: source.name,
    postbackUrl: source.postbackUrl ?? '',
    rateLimitPerMinute: source.rateLimitPerMinute == null ? '' : String(source.rateLimitPerMinute),
    duplicateWindowHours: String(source.duplicateWindowHours),
    active: source.active,
    payoutModel: source.payout?.model ?? 'none',
    payoutAmount: source.payout?.amount == null ? '' : String(source.payout.amount),
    payoutPercent: source.payout?.percent == null ? '' : String(source.payout.percent),
    payoutGeo: jsonText(source.payout?.geo),
    clawback: source.clawback,
  });
  const [local, setLocal] = useState<Record<string, string>>({});
  const set = (name: string, value: string | boolean) => setDraft({ ...draft, [name]: value });
  const save = useAction(async () => {
    const { values, errors } = parseJsonFields(draft, ['payoutGeo']);
    setLocal(errors);
    if (Object.keys(errors).length) return;
    const payout =
      draft.payoutModel === 'none'
        ? null
        : {
            model: draft.payoutModel,
            ...(draft.payoutModel === 'revshare'
              ? { percent: amountOrNull(draft.payoutPercent) }
              : { amount: amountOrNull(draft.payoutAmount) }),
            ...(values.payoutGeo ? { geo: values.payoutGeo } : {}),
          };
    await api<Source>('PATCH', `/sources/${source.id}`, {
      body: {
        payout,
        clawback: draft.clawback,
        name: draft.name,
        postbackUrl: draft.postbackUrl || null,
        rateLimitPerMinute: numberOrNull(draft.rateLimitPerMinute),
        duplicateWindowHours: numberOrNull(draft.duplicateWindowHours) ?? 0,
        active: draft.active,
      },
    });
    saved();
  });
  const common = { draft, set, error: save.error, local, prefix: 'source-edit' };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
      aria-label={`Edit ${source.name}`}
    >
      {save.error && (
        <p class="state error" role="alert">
          {generalError(save.error, [
            '/name',
            '/postbackUrl',
            '/rateLimitPerMinute',
            '/duplicateWindowHours',
            '/active',
            '/payout',
            '/clawback',
          ])}
        </p>
      )}
      <div class="form-grid">
        <TextInput {...common} name="name" label="Name" required />
        <TextInput {...common} name="postbackUrl" label="Postback URL" type="url" />
        <TextInput
          {...common}
          name="rateLimitPerMinute"
          label="Leads per minute"
          type="number"
          hint="empty: no limit"
        />
        <TextInput {...common} name="duplicateWindowHours" label="Duplicate window (hours)" type="number" />
      </div>
      <fieldset>
        <legend>Payout</legend>
        <div class="form-grid">
          <SelectInput
            {...common}
            name="payoutModel"
            pointer="/payout/model"
            label="Paid"
            options={['none', ...PAYOUT_MODELS]}
            hint="cpl: per lead sold; cpa: per conversion; revshare: a share of what partners pay"
          />
          {draft.payoutModel === 'revshare' ? (
            <TextInput {...common} name="payoutPercent" pointer="/payout/percent" label="Share (%)" />
          ) : (
            draft.payoutModel !== 'none' && (
              <TextInput {...common} name="payoutAmount" pointer="/payout/amount" label="Amount" />
            )
          )}
          {(draft.payoutModel === 'cpl' || draft.payoutModel === 'cpa') && (
            <JsonInput
              {...common}
              name="payoutGeo"
              pointer="/payout/geo"
              label="Amount by geo"
              hint='over the amount, e.g. {"US": 5, "CA": 3.5}; empty for none'
            />
          )}
        </div>
        <CheckInput {...common} name="clawback" label="Take the payout back when a buyer's return is approved" />
      </fieldset>
      <CheckInput {...common} name="active" label="Active (its key works)" />
      <button type="submit" class="primary" disabled={save.busy}>
        Save
      </button>
    </form>
  );
}

function Integration({ source, apiKey }: { source: Source; apiKey?: string }) {
  const [tab, setTab] = useState<'curl' | 'python' | 'javascript'>('curl');
  const code = snippets(window.location.origin, apiKey ?? `${source.apiKeyPrefix}…`);
  const tabs = [
    ['curl', 'curl'],
    ['python', 'Python'],
    ['javascript', 'JavaScript'],
  ] as const;
  return (
    <Section title="Integration">
      <p>
        The source posts each lead to <code>{window.location.origin}/v1/leads</code> with its key as{' '}
        <code>Authorization: Bearer</code>. An accepted lead is answered <code>202</code> with its id; invalid ones{' '}
        <code>422</code> with every problem by field. Send an <code>Idempotency-Key</code> to make retries safe. The
        full reference is at <a href="/docs">/docs</a>.
      </p>
      <div class="tabs" role="tablist" aria-label="Request examples">
        {tabs.map(([k, label]) => (
          <button
            key={k}
            type="button"
            role="tab"
            id={`tab-${k}`}
            aria-selected={tab === k}
            aria-controls="snippet"
            tabIndex={tab === k ? 0 : -1}
            onClick={() => setTab(k)}
            onKeyDown={(e) => {
              const i = tabs.findIndex(([t]) => t === tab);
              if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                const next = tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length]![0];
                setTab(next);
                document.getElementById(`tab-${next}`)?.focus();
              }
            }}
          >
            {label}
          </button>
        ))}
      </div>
      <div id="snippet" role="tabpanel" aria-labelledby={`tab-${tab}`}>
        <pre>{code[tab]}</pre>
        <CopyButton text={code[tab]} label="Copy the request" />
      </div>
      {!apiKey && <p class="muted">The key is shown only when it is issued: put the source’s key where it says so.</p>}
    </Section>
  );
}
