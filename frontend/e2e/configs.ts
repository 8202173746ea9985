// Pipelines for the browser tests: inline sources only (no files), with the
// built-in `sleep` and `fail` helpers to make runs slow or failing on purpose.

export function slowConfig(name: string, items: number, seconds: number, concurrency = 2) {
  return {
    name,
    description: "Slow enough to watch: each item sleeps at the work route.",
    params: {
      items: { type: "integer", default: items, description: "How many items the source emits." },
      delay: { type: "number", default: seconds, description: "Seconds each item sleeps." },
    },
    routes: {
      source: {
        adapter: { type: "inline", with: { items: Array.from({ length: items }, (_, i) => ({ i, text: `item ${i}` })) } },
        to: "work",
      },
      work: { processors: [{ type: "sleep", with: { seconds: "{delay}" } }], concurrency, to: "store" },
      store: { processors: [{ type: "storage_write", with: { key: "out/{{message_id}}.json" } }] },
    },
  };
}

/** Every item with `bad: true` fails at `check` (no retries): a run with failures and stored objects. */
export function failingConfig(name: string) {
  const items = Array.from({ length: 6 }, (_, i) => ({ i, bad: i % 3 === 1, text: `line ${i}` }));
  return {
    name,
    settings: { max_retries: 0 },
    routes: {
      source: { adapter: { type: "inline", with: { items } }, to: "split" },
      split: { processors: [{ type: "sleep", with: { seconds: 0.01 } }], to: "check" },
      check: {
        processors: [
          { type: "fail", with: { when: { bad: true }, error: "bad item: deliberate failure" } },
          { type: "storage_write", with: { key: "ok/{{message_id}}.json" } },
        ],
      },
    },
  };
}
