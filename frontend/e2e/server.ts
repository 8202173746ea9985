// Starts a real FactFlow server process for the browser tests: a free
// loopback port, a throwaway data directory (SQLite), the built UI, and
// optionally an API token.  No part of the API is mocked.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..", "..");
const PYTHON = process.env.FACTFLOW_PYTHON ?? join(ROOT, ".venv", "bin", "python");

export interface RunningServer {
  url: string;
  token: string | undefined;
  dataDir: string;
  stop: () => Promise<void>;
  /** The server's output so far (for failure messages). */
  output: () => string;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

export async function startServer(options: { token?: string; env?: Record<string, string> } = {}): Promise<RunningServer> {
  const built = join(ROOT, "backend/packages/factflow-server/src/factflow_server/_ui/index.html");
  if (!existsSync(built)) throw new Error(`no UI build at ${built}: run ./dev setup (or npm run build) first`);
  const dataDir = mkdtempSync(join(tmpdir(), "factflow-e2e-"));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FACTFLOW_DATA_DIR: dataDir,
    FACTFLOW_SSE_HEARTBEAT: "2",
    FACTFLOW_PROGRESS_INTERVAL: "0.1",
    ...options.env,
  };
  delete env["FACTFLOW_DATABASE_URL"];
  delete env["FACTFLOW_API_TOKEN"];
  if (options.token) env["FACTFLOW_API_TOKEN"] = options.token;
  const child: ChildProcess = spawn(
    PYTHON,
    ["-m", "factflow_server", "--host", "127.0.0.1", "--port", String(port), "--log-level", "warning"],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", done));
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited at start-up:\n${output}`);
    try {
      const ready = await fetch(`${url}/readyz`);
      if (ready.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the server was not ready within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    token: options.token,
    dataDir,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A small typed-enough API helper for arranging test data (the UI is what is tested). */
export class Api {
  constructor(
    readonly url: string,
    readonly token?: string,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token ? { Authorization: `Bearer ${this.token}`, ...extra } : extra;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: this.headers(body === undefined ? {} : { "Content-Type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async applyConfig(config: object): Promise<void> {
    await this.json("POST", "/api/v1/configs", config);
  }

  async run(name: string, body: object = {}): Promise<{ id: string; status: string }> {
    return this.json("POST", `/api/v1/configs/${name}/run`, body);
  }

  async wait(id: string): Promise<{ status: string }> {
    return this.json("GET", `/api/v1/executions/${id}/wait?timeout=60`);
  }
}
