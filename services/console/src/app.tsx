import { LocationProvider, Router, Route, useLocation } from 'preact-iso/router';
import { useState } from 'preact/hooks';
import { PAGES, BASE } from './pages';
import { SessionProvider, useSession } from './session';
import { SignIn } from './pages/sign-in';
import { TIME_ZONE } from './ui/format';
import { Loading } from './ui/data';
import { NotFound } from './pages/not-found';

function Nav() {
  const { path } = useLocation();
  const [open, setOpen] = useState(false);
  const current = (to: string) => (to === `${BASE}/` ? path === to || path === BASE : path.startsWith(to));
  return (
    <nav aria-label="Console" class={open ? 'open' : ''}>
      <button
        type="button"
        class="menu-toggle"
        aria-expanded={open}
        aria-controls="nav-links"
        onClick={() => setOpen(!open)}
      >
        Menu
      </button>
      <ul id="nav-links">
        {PAGES.filter((p) => p.nav).map((p) => (
          <li key={p.path}>
            <a href={p.path} aria-current={current(p.path) ? 'page' : undefined} onClick={() => setOpen(false)}>
              {p.nav}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Shell() {
  const { session, signOut } = useSession();
  if (session.state === 'checking') {
    return (
      <main id="main">
        <Loading what="the console" />
      </main>
    );
  }
  if (session.state === 'signed-out') return <SignIn reason={session.reason} />;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={`${BASE}/`}>
          leadrouter
        </a>
        <Nav />
        <button type="button" class="sign-out" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main">
        <Router>
          {[
            ...PAGES.map((p) => <Route key={p.path} path={p.path} component={p.component} />),
            <Route key="404" default component={NotFound} />,
          ]}
        </Router>
      </main>
      <footer class="foot">
        Times are shown in {TIME_ZONE}. <a href="/docs">API reference</a>
      </footer>
    </>
  );
}

export function App() {
  return (
    <LocationProvider scope={BASE}>
      <SessionProvider>
        <Shell />
      </SessionProvider>
    </LocationProvider>
  );
}
