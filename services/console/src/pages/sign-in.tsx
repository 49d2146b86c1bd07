import { useState } from 'preact/hooks';
import { ApiError } from '../api/client';
import { describedBy, Field } from '../ui/field';
import { useSession } from '../session';
import { useEffect } from 'preact/hooks';

/** The admin token, exchanged for a session cookie; the token itself is not kept by the page. */
export function SignIn({ reason }: { reason?: string }) {
  const { signIn } = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = 'Sign in · leadrouter';
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(token);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setBusy(false);
    }
  };

  const id = 'admin-token';
  return (
    <main class="sign-in" id="main">
      <form onSubmit={submit} class="panel" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">leadrouter console</h1>
        {reason && (
          <p class="notice" role="status">
            {reason}
          </p>
        )}
        <Field
          id={id}
          label="Admin token"
          hint="The ADMIN_TOKEN the services run with. It is exchanged for a session that lasts 12 hours."
          error={error}
        >
          <input
            type="password"
            autoComplete="current-password"
            required
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
            {...describedBy(id, 'hint', error)}
          />
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
