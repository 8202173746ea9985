import { useQueryClient } from "@tanstack/react-query";
import { NavLink, Outlet } from "react-router";
import { ErrorState } from "../components/States";
import { LoginPage } from "../features/auth/LoginPage";
import { logout, sessionKey, useSession } from "../features/auth/session";
import { useTheme } from "../lib/theme";

export function Layout() {
  const session = useSession();
  const [theme, toggleTheme] = useTheme();
  const client = useQueryClient();

  // The page renders while the session is checked (no extra round trip before
  // the first data request); a server that wants a token answers those with
  // 401, and the login page replaces the page once the check says so.
  if (session.isError) {
    return (
      <main className="page">
        <ErrorState error={session.error} what="the server" retry={() => void session.refetch()} />
      </main>
    );
  }
  if (session.data?.auth_required && !session.data.authenticated) return <LoginPage />;

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/executions" className="brand">
          FactFlow
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/executions">Executions</NavLink>
          <NavLink to="/configs">Configs</NavLink>
          <NavLink to="/schedules">Schedules</NavLink>
          <NavLink to="/queue">Queue</NavLink>
          <a href="/docs" target="_blank" rel="noreferrer">
            API docs
          </a>
        </nav>
        <div className="topbar-actions">
          <button
            type="button"
            className="icon-button"
            onClick={toggleTheme}
            aria-label={theme === "dark" ? "Switch to light theme" : "Switch to dark theme"}
            title="Light / dark"
          >
            {theme === "dark" ? "☀" : "☾"}
          </button>
          {session.data?.auth_required && (
            <button
              type="button"
              onClick={() => {
                void logout().then(() => {
                  // Forget everything read with the session, then show the login page.
                  client.removeQueries({ predicate: (query) => query.queryKey[0] !== sessionKey[0] });
                  client.setQueryData(sessionKey, { auth_required: true, authenticated: false, expires_at: null });
                });
              }}
            >
              Log out
            </button>
          )}
        </div>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
