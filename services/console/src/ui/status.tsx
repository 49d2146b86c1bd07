import { humanise } from './format';

/** A status as a word with a colour; the word carries the meaning, the colour only helps. */
export function Status({ value }: { value: string }) {
  return <span class={`status status-${value}`}>{humanise(value)}</span>;
}
