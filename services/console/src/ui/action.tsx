import { useState } from 'preact/hooks';
import { ApiError } from '../api/client';

export interface Action<A extends unknown[]> {
  run: (...args: A) => Promise<void>;
  busy: boolean;
  error: ApiError | undefined;
  clear: () => void;
}

/** A call that changes something: busy while it runs, its ApiError kept for the form to show by field. */
export function useAction<A extends unknown[]>(fn: (...args: A) => Promise<void>): Action<A> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const run = async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn(...args);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, String(err)));
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clear: () => setError(undefined) };
}

/** The message of an action's error that no field shows (or all of it when `fields` is empty). */
export function generalError(error: ApiError | undefined, fields: string[]): string | undefined {
  if (!error) return undefined;
  const rest = error.errors.filter(
    (e) => !e.field || !fields.some((f) => e.field === f || e.field!.startsWith(`${f}/`)),
  );
  if (error.errors.length === 0) return error.message;
  if (rest.length === 0) return `${error.message}: see the fields marked below`;
  return `${error.message}: ${rest.map((e) => (e.field ? `${e.field} ${e.message}` : e.message)).join('; ')}`;
}
