import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { api, onSignedOut, setCsrfToken } from './api/client';

interface SessionAnswer {
  csrfToken: string;
  expiresAt: string;
}

export type SessionState =
  { state: 'checking' } | { state: 'signed-out'; reason?: string } | { state: 'signed-in'; expiresAt: string };

interface SessionContext {
  session: SessionState;
  signIn: (token: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const Ctx = createContext<SessionContext | null>(null);

export function useSession(): SessionContext {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error('useSession outside SessionProvider');
  return ctx;
}

/**
 * Whether the operator is signed in. A page that loads asks the server
 * (`GET /v1/admin/session`), which answers the CSRF token again; the token is
 * kept in memory only. Any 401 from the API ends the session here too.
 */
export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [session, setSession] = useState<SessionState>({ state: 'checking' });

  useEffect(() => {
    onSignedOut(() => {
      setCsrfToken(undefined);
      setSession({ state: 'signed-out', reason: 'Your session has ended. Sign in again.' });
    });
    api<SessionAnswer>('GET', '/session', { quiet401: true }).then(
      (s) => {
        setCsrfToken(s.csrfToken);
        setSession({ state: 'signed-in', expiresAt: s.expiresAt });
      },
      () => setSession({ state: 'signed-out' }),
    );
  }, []);

  const signIn = useCallback(async (token: string) => {
    const s = await api<SessionAnswer>('POST', '/session', { body: { token }, quiet401: true });
    setCsrfToken(s.csrfToken);
    setSession({ state: 'signed-in', expiresAt: s.expiresAt });
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api<void>('DELETE', '/session', { quiet401: true });
    } finally {
      setCsrfToken(undefined);
      setSession({ state: 'signed-out', reason: 'You have signed out.' });
    }
  }, []);

  const value = useMemo(() => ({ session, signIn, signOut }), [session, signIn, signOut]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
