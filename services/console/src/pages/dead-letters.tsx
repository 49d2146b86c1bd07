import { useState } from 'preact/hooks';
import { api, query } from '../api/client';
import type { BulkRetryAnswer, DeadLetter, Page as ApiPage, RetryAnswer } from '../api/types';
import { useAction } from '../ui/action';
import { Async, ErrorNote, useApi } from '../ui/data';
import { Page, TableWrap } from '../ui/page';
import { Time } from '../ui/time';
import { BASE } from './base';
import { PartnerFilter } from './partner-filter';

/** Dead-lettered deliveries: filter by partner, retry or discard the selected ones (with progress), or retry all. */
export function DeadLetters() {
  const [partner, setPartner] = useState('');
  const list = useApi<ApiPage<DeadLetter>>(`/dead-letters${query({ partner, limit: 500 })}`);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [progress, setProgress] = useState<{ done: number; total: number; label: string }>();
  const [report, setReport] = useState<string>();

  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  /** One request per selected dead letter, so the bar moves with each. */
  const each = useAction(async (verb: 'retry' | 'discard') => {
    const ids = [...selected];
    const problems: string[] = [];
    setReport(undefined);
    setProgress({ done: 0, total: ids.length, label: verb === 'retry' ? 'Retrying' : 'Discarding' });
    for (const [i, id] of ids.entries()) {
      try {
        if (verb === 'retry') await api<RetryAnswer>('POST', `/dead-letters/${id}/retry`);
        else await api<void>('DELETE', `/dead-letters/${id}`);
      } catch (err) {
        problems.push(`${id.slice(-8)}: ${(err as Error).message}`);
      }
      setProgress({ done: i + 1, total: ids.length, label: verb === 'retry' ? 'Retrying' : 'Discarding' });
    }
    setReport(
      `${verb === 'retry' ? 'Retried' : 'Discarded'} ${ids.length - problems.length} of ${ids.length}.` +
        (problems.length ? ` Not done: ${problems.join('; ')}` : ''),
    );
    setSelected(new Set());
    list.reload();
  });

  const all = useAction(async () => {
    setReport(undefined);
    setProgress({ done: 0, total: 1, label: 'Retrying every dead letter' });
    const answer = await api<BulkRetryAnswer>('POST', '/dead-letters/retry', {
      body: partner ? { partner } : { all: true },
    });
    setProgress({ done: 1, total: 1, label: 'Retrying every dead letter' });
    // `skipped` counts the dead letters left as they were, by reason.
    const skipped = Object.values(answer.skipped).reduce((sum, n) => sum + n, 0);
    setReport(`Requeued ${answer.requeued}.${skipped > 0 ? ` ${skipped} could not be.` : ''}`);
    setSelected(new Set());
    list.reload();
  });

  const working = each.busy || all.busy;
  return (
    <Page title="Dead letters">
      <div class="panel">
        <PartnerFilter
          id="dl-partner"
          value={partner}
          onChange={(id) => {
            setPartner(id);
            setSelected(new Set());
          }}
        />
        <div class="button-row">
          <button
            type="button"
            class="primary"
            disabled={working || selected.size === 0}
            onClick={() => void each.run('retry')}
          >
            Retry selected ({selected.size})
          </button>
          <button type="button" disabled={working || selected.size === 0} onClick={() => void each.run('discard')}>
            Discard selected
          </button>
          <button type="button" disabled={working} onClick={() => void all.run()}>
            {partner ? 'Retry all of this partner' : 'Retry all'}
          </button>
        </div>
        {progress && (
          <div>
            <label for="dl-progress">
              {progress.label}: {progress.done} of {progress.total}
            </label>
            <progress id="dl-progress" max={progress.total} value={progress.done} />
          </div>
        )}
        {report && (
          <p class="notice" role="status">
            {report}
          </p>
        )}
        {(each.error ?? all.error) && <ErrorNote error={(each.error ?? all.error)!} />}
      </div>
      <Async
        state={list}
        what="dead letters"
        isEmpty={(p) => p.items.length === 0}
        empty="No dead letters: every delivery has settled."
      >
        {(p) => (
          <TableWrap label="Dead letters">
            <table>
              <thead>
                <tr>
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label="Select every dead letter shown"
                      checked={p.items.length > 0 && p.items.every((d) => selected.has(d.id))}
                      onChange={(e) =>
                        setSelected(e.currentTarget.checked ? new Set(p.items.map((d) => d.id)) : new Set())
                      }
                    />
                  </th>
                  <th scope="col">Lead</th>
                  <th scope="col">Partner</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last error</th>
                  <th scope="col">Dead-lettered</th>
                </tr>
              </thead>
              <tbody>
                {p.items.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select the delivery of lead ${d.leadId.slice(-8)} to ${d.partner}`}
                        checked={selected.has(d.id)}
                        onChange={() => toggle(d.id)}
                      />
                    </td>
                    <td>
                      <a href={`${BASE}/leads/${d.leadId}`} class="mono">
                        {d.leadId.slice(-8)}
                      </a>
                    </td>
                    <td>
                      <a href={`${BASE}/partners/${d.partnerId}`}>{d.partner}</a>
                    </td>
                    <td>
                      {d.attempts}
                      {d.retries > 0 && <span class="muted"> ({d.retries} retries)</span>}
                    </td>
                    <td>{d.lastError ?? '—'}</td>
                    <td>
                      <Time iso={d.at} />
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
