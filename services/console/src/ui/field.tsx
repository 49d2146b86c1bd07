import type { ComponentChildren } from 'preact';

let counter = 0;
/** A stable id for a field's label, hint and error. */
export const fieldId = (name: string) => `f-${name.replace(/[^\w-]/g, '-')}-${++counter}`;

/**
 * A labelled field with its hint and its error from the API, tied to the
 * control by `aria-describedby` and `aria-invalid` so a screen reader reads
 * them with it. The control is given its id and described-by by `children`.
 */
export function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  children: ComponentChildren;
}) {
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** The attributes a control inside `Field` needs. */
export function describedBy(id: string, hint?: string, error?: string) {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return { id, 'aria-describedby': ids || undefined, 'aria-invalid': error ? true : undefined };
}
