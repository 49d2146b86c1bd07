import { formatClock, formatNumber } from './format';

export interface Bar {
  at: string;
  value: number;
}

/**
 * A bar chart in plain SVG (no chart library: one series, a few dozen bars).
 * Screen readers get the summary as the image's name and the numbers in a
 * table that only they see.
 */
export function BarChart({ bars, label, unit }: { bars: Bar[]; label: string; unit: string }) {
  const width = 600;
  const height = 160;
  const pad = { top: 8, right: 4, bottom: 20, left: 32 };
  const max = Math.max(1, ...bars.map((b) => b.value));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const step = bars.length ? plotW / bars.length : plotW;
  const total = bars.reduce((n, b) => n + b.value, 0);
  const summary = `${label}: ${formatNumber(total)} ${unit} in total, at most ${formatNumber(max)} in one minute`;
  const ticks = bars.length > 0 ? [0, Math.floor(bars.length / 2), bars.length - 1] : [];
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <line x1={pad.left} y1={pad.top + plotH} x2={width - pad.right} y2={pad.top + plotH} class="axis" />
        <text x={pad.left - 4} y={pad.top + 8} class="tick" text-anchor="end">
          {formatNumber(max)}
        </text>
        <text x={pad.left - 4} y={pad.top + plotH} class="tick" text-anchor="end">
          0
        </text>
        {bars.map((b, i) => {
          const h = (b.value / max) * plotH;
          return (
            <rect
              key={b.at}
              x={pad.left + i * step + step * 0.1}
              y={pad.top + plotH - h}
              width={Math.max(1, step * 0.8)}
              height={h}
              class="bar"
            >
              <title>{`${formatClock(new Date(b.at))}: ${b.value}`}</title>
            </rect>
          );
        })}
        {ticks.map((i) => (
          <text key={i} x={pad.left + i * step + step / 2} y={height - 4} class="tick" text-anchor="middle">
            {formatClock(new Date(bars[i]!.at))}
          </text>
        ))}
      </svg>
      <figcaption>{summary}</figcaption>
      <table class="sr-only">
        <caption>{label}</caption>
        <thead>
          <tr>
            <th scope="col">Minute</th>
            <th scope="col">{unit}</th>
          </tr>
        </thead>
        <tbody>
          {bars
            .filter((b) => b.value > 0)
            .map((b) => (
              <tr key={b.at}>
                <td>{formatClock(new Date(b.at))}</td>
                <td>{b.value}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </figure>
  );
}
