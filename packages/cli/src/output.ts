/**
 * Plain aligned columns, like `kubectl get` or `docker ps`: readable in a
 * terminal and still easy to cut with grep and awk (no box drawing). Scripts
 * should use `--json`.
 */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => oneLine(c == null ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

/** Key/value lines: `label  value`, labels aligned. */
export function fields(pairs: [string, string | number | null | undefined][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v == null ? '-' : oneLine(String(v))}`).join('\n') + '\n';
}

export function truncate(text: string | null | undefined, max: number): string | null {
  if (text == null) return null;
  const flat = oneLine(text);
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
