import { formatClock, formatNumber } from './format';

export interface Bar {
  /** What the bar is of: an instant (ISO) by default, read by `name`. */
  at: string;
  value: number;
}

/**
 * A bar chart in plain SVG (no chart library: one series, a few dozen bars).
 * Screen readers get the summary as the image's name and the numbers in a
 * table that only they see.
 */
export function BarChart({
  bars,
  label,
  unit,
  per = 'minute',
  name = (at) => formatClock(new Date(at)),
  show = formatNumber,
}: {
  bars: Bar[];
  label: string;
  unit: string;
  /** What one bar covers (the column of the screen readers' table, and the summary's "in one …"). */
  per?: string;
  /** A bar's name, under the axis and in the table. */
  name?: (at: string) => string;
  /** A value as written (money keeps its exact text elsewhere; here, a rounded number). */
  show?: (value: number) => string;
}) {
  const width = 600;
  const height = 160;
  const pad = { top: 8, right: 4, bottom: 20, left: 40 };
  const max = Math.max(0, ...bars.map((b) => b.value));
  const min = Math.min(0, ...bars.map((b) => b.value));
  const span = max - min || 1;
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const y = (v: number) => pad.top + ((max - v) / span) * plotH;
  const step = bars.length ? plotW / bars.length : plotW;
  const total = bars.reduce((n, b) => n + b.value, 0);
  const summary = `${label}: ${show(total)} ${unit} in total, at most ${show(max)} in one ${per}`;
  const ticks = bars.length > 0 ? [...new Set([0, Math.floor(bars.length / 2), bars.length - 1])] : [];
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <line x1={pad.left} y1={y(0)} x2={width - pad.right} y2={y(0)} class="axis" />
        <text x={pad.left - 4} y={pad.top + 8} class="tick" text-anchor="end">
          {show(max)}
        </text>
        <text x={pad.left - 4} y={pad.top + plotH} class="tick" text-anchor="end">
          {show(min)}
        </text>
        {bars.map((b, i) => (
          <rect
            key={b.at}
            x={pad.left + i * step + step * 0.1}
            y={Math.min(y(b.value), y(0))}
            width={Math.max(1, step * 0.8)}
            height={Math.abs(y(b.value) - y(0))}
            class={b.value < 0 ? 'bar negative' : 'bar'}
          >
            <title>{`${name(b.at)}: ${show(b.value)}`}</title>
          </rect>
        ))}
        {ticks.map((i) => (
          <text key={i} x={pad.left + i * step + step / 2} y={height - 4} class="tick" text-anchor="middle">
            {name(bars[i]!.at)}
          </text>
        ))}
      </svg>
      <figcaption>{summary}</figcaption>
      <table class="sr-only">
        <caption>{label}</caption>
        <thead>
          <tr>
            <th scope="col">{per[0]!.toUpperCase() + per.slice(1)}</th>
            <th scope="col">{unit}</th>
          </tr>
        </thead>
        <tbody>
          {bars
            .filter((b) => b.value !== 0)
            .map((b) => (
              <tr key={b.at}>
                <td>{name(b.at)}</td>
                <td>{show(b.value)}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </figure>
  );
}
