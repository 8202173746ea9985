/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The production build lands inside the server package, which serves it at "/"
// (factflow_server/_ui/, git-ignored; ./dev setup builds it).
const outDir = fileURLToPath(
  new URL("../backend/packages/factflow-server/src/factflow_server/_ui", import.meta.url),
);
// `npm run dev` proxies the API to a running `factflow server` (default port).
const api = process.env.FACTFLOW_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 900,
  },
  server: {
    proxy: {
      "/api": { target: api, changeOrigin: false },
      "/docs": { target: api },
      "/openapi.json": { target: api },
    },
  },
  test: {
    // Pure logic runs in node; component tests ask for a DOM per file
    // (`// @vitest-environment happy-dom`).
    environment: "node",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
