import type { ApiError } from '../api/client';
import { describedBy, Field } from './field';

/**
 * Form controls bound to a draft object, each showing the API's error for
 * its own JSON pointer (`/caps/hourly`, `/filters/fields/0/op`, …).
 */
export type Draft = Record<string, string | boolean>;

interface Common {
  name: string;
  label: string;
  /** The JSON pointer of the API's errors for this control; default `/name`. */
  pointer?: string;
  hint?: string;
  draft: Draft;
  set: (name: string, value: string | boolean) => void;
  error: ApiError | undefined;
  /** Errors found before sending (JSON that does not parse). */
  local?: Record<string, string>;
  prefix: string;
}

const errorOf = (p: Common) => p.local?.[p.name] ?? p.error?.forField(p.pointer ?? `/${p.name}`);

export function TextInput(p: Common & { type?: 'text' | 'number' | 'url' | 'email' | 'password'; required?: boolean }) {
  const id = `${p.prefix}-${p.name}`;
  const error = errorOf(p);
  return (
    <Field id={id} label={p.label} hint={p.hint} error={error}>
      <input
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- Preact 11's input types want one literal
        type={(p.type ?? 'text') as 'text'}
        required={p.required}
        value={String(p.draft[p.name] ?? '')}
        onInput={(e) => p.set(p.name, e.currentTarget.value)}
        {...describedBy(id, p.hint, error)}
      />
    </Field>
  );
}

export function SelectInput(p: Common & { options: string[] }) {
  const id = `${p.prefix}-${p.name}`;
  const error = errorOf(p);
  return (
    <Field id={id} label={p.label} hint={p.hint} error={error}>
      <select
        value={String(p.draft[p.name] ?? '')}
        onChange={(e) => p.set(p.name, e.currentTarget.value)}
        {...describedBy(id, p.hint, error)}
      >
        {p.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </Field>
  );
}

export function JsonInput(p: Common) {
  const id = `${p.prefix}-${p.name}`;
  const error = errorOf(p);
  return (
    <Field id={id} label={p.label} hint={p.hint ?? 'JSON; empty for none'} error={error}>
      <textarea
        spellcheck={false}
        value={String(p.draft[p.name] ?? '')}
        onInput={(e) => p.set(p.name, e.currentTarget.value)}
        {...describedBy(id, p.hint ?? 'JSON; empty for none', error)}
      />
    </Field>
  );
}

export function CheckInput(p: Common) {
  const id = `${p.prefix}-${p.name}`;
  const error = errorOf(p);
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label class="check" for={id}>
        <input
          type="checkbox"
          checked={p.draft[p.name] === true}
          onChange={(e) => p.set(p.name, e.currentTarget.checked)}
          {...describedBy(id, undefined, error)}
        />
        {p.label}
      </label>
      {error && (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** Pretty JSON for a textarea; '' for null. */
export const jsonText = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v, null, 2));

/**
 * The draft's JSON fields parsed: `values` (null for an empty field) and
 * `errors` for those that do not parse.
 */
export function parseJsonFields(
  draft: Draft,
  names: string[],
): { values: Record<string, unknown>; errors: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const name of names) {
    const text = String(draft[name] ?? '').trim();
    if (!text) {
      values[name] = null;
      continue;
    }
    try {
      values[name] = JSON.parse(text);
    } catch (err) {
      errors[name] = `is not valid JSON: ${(err as Error).message}`;
    }
  }
  return { values, errors };
}

/** A number field's value: a number, null when empty, or the text itself (the API then says what is wrong). */
export function numberOrNull(v: string | boolean | undefined): number | string | null {
  const s = String(v ?? '').trim();
  if (s === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

/** An amount field's value as the API takes it: the exact decimal text, or null when empty. */
export function amountOrNull(v: string | boolean | undefined): string | null {
  const s = String(v ?? '').trim();
  return s === '' ? null : s;
}
