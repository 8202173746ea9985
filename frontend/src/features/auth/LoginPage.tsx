import { useQueryClient } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { ApiError } from "../../api/client";
import { login, sessionKey } from "./session";

/** Asks once for the server's API token and trades it for a session cookie. */
export function LoginPage() {
  const client = useQueryClient();
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: SyntheticEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await login(token.trim());
      client.setQueryData(sessionKey, session);
      await client.invalidateQueries();
    } catch (cause) {
      setError(
        cause instanceof ApiError && cause.status === 401
          ? "That is not this server's token. It is the value of FACTFLOW_API_TOKEN where the server runs."
          : String(cause instanceof Error ? cause.message : cause),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="card login-card" onSubmit={(event) => void submit(event)}>
        <h1>FactFlow</h1>
        <p>This server asks for its API token (the value of <code>FACTFLOW_API_TOKEN</code>).
          It is sent once; the browser then keeps a session cookie that scripts cannot read.</p>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(event) => setToken(event.target.value)}
          required
          autoFocus
        />
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || token.trim() === ""}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </main>
  );
}
