import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useOutletContext, useSearchParams } from "react-router";
import { objectUrl } from "../../api/client";
import type { Execution, StorageObject } from "../../api/types";
import { CodeView } from "../../components/CodeView";
import { Empty, ErrorState, Loading } from "../../components/States";
import { api, unwrap } from "../../api/client";
import { bytes, count, dateTime } from "../../lib/format";

/** Objects larger than this are not previewed, only downloaded. */
const PREVIEW_BYTES = 256 * 1024;

export function previewKind(contentType: string): "json" | "text" | null {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/json" || type.endsWith("+json") || type === "application/x-ndjson") return "json";
  if (type.startsWith("text/") || type === "application/yaml" || type === "application/xml") return "text";
  return null;
}

/** /executions/:id/storage?key= — what the run stored, previews and downloads. */
export function StorageTab() {
  const execution = useOutletContext<Execution>();
  const [search, setSearch] = useSearchParams();
  const selectedKey = search.get("key");
  const query = useInfiniteQuery({
    queryKey: ["execution", execution.id, "storage"],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/executions/{execution_id}/storage/objects", {
          params: { path: { execution_id: execution.id }, query: { after: pageParam, limit: 200 } },
        }),
      ),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => page.next_after ?? undefined,
  });
  if (query.isPending) return <Loading what="stored objects" />;
  if (query.isError) return <ErrorState error={query.error} what="stored objects" retry={() => void query.refetch()} />;
  const objects = query.data.pages.flatMap((page) => page.items);
  if (objects.length === 0) {
    return (
      <Empty title="Nothing stored.">
        Objects appear here when a route&apos;s <code>storage_write</code> step writes them.
      </Empty>
    );
  }
  const selected = objects.find((o) => o.key === selectedKey);
  return (
    <div className="split">
      <section className="card" aria-labelledby="storage-title">
        <header className="card-header">
          <h2 id="storage-title">Objects</h2>
          <span className="muted small">
            {count(objects.length)}
            {query.hasNextPage ? "+" : ""}
          </span>
          <a
            className="button small"
            href={`/api/v1/executions/${encodeURIComponent(execution.id)}/storage/archive`}
            download
            data-testid="download-all"
            title="Every object of the run as one tar archive (streamed)"
          >
            Download all (.tar)
          </a>
        </header>
        <div className="table-wrap">
          <table className="data-table storage-table">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col">Route</th>
                <th scope="col">
                  <span className="sr-only">Download</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {objects.map((object) => (
                <tr key={object.id} className={object.key === selectedKey ? "selected" : undefined} data-key={object.key}>
                  <td>
                    <button
                      type="button"
                      className="link-button mono truncate"
                      title={object.key}
                      onClick={() => setSearch({ key: object.key })}
                    >
                      {object.key}
                    </button>
                  </td>
                  <td className="num">{bytes(object.size)}</td>
                  <td>{object.route ?? "–"}</td>
                  <td>
                    <a href={objectUrl(execution.id, object.key)} download aria-label={`Download ${object.key}`}>
                      ↓
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {query.hasNextPage && (
          <button type="button" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
            Load more
          </button>
        )}
      </section>
      <section className="card" aria-labelledby="preview-title">
        <h2 id="preview-title">Preview</h2>
        {selected ? (
          <Preview executionId={execution.id} object={selected} />
        ) : (
          <Empty title="Pick an object">JSON and text objects preview here; any object downloads.</Empty>
        )}
      </section>
    </div>
  );
}

function Preview({ executionId, object }: { executionId: string; object: StorageObject }) {
  const kind = previewKind(object.content_type);
  const url = objectUrl(executionId, object.key);
  const canPreview = kind !== null && object.size <= PREVIEW_BYTES;
  const query = useQuery({
    queryKey: ["object", executionId, object.key, object.checksum],
    queryFn: async ({ signal }) => {
      const response = await fetch(url, { signal, credentials: "same-origin" });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      return response.text();
    },
    enabled: canPreview,
    staleTime: Infinity,
  });
  let body: string | null = null;
  if (query.data !== undefined) {
    body = query.data;
    if (kind === "json") {
      try {
        body = JSON.stringify(JSON.parse(query.data), null, 2);
      } catch {
        // Not valid JSON after all: show it as it is.
      }
    }
  }
  return (
    <div data-testid="object-preview">
      <dl className="facts">
        <dt>Key</dt>
        <dd className="mono">{object.key}</dd>
        <dt>Type</dt>
        <dd>{object.content_type}</dd>
        <dt>Size</dt>
        <dd>{bytes(object.size)}</dd>
        <dt>Written</dt>
        <dd>{dateTime(object.written_at)}</dd>
        <dt>Checksum</dt>
        <dd className="mono truncate" title={object.checksum}>
          {object.checksum}
        </dd>
      </dl>
      <p>
        <a className="button" href={url} download data-testid="download">
          Download
        </a>
      </p>
      {!canPreview ? (
        <p className="muted">
          {kind === null ? "No preview for this content type." : `Too large to preview (over ${bytes(PREVIEW_BYTES)}).`}
        </p>
      ) : query.isPending ? (
        <Loading what="the object" />
      ) : query.isError ? (
        <ErrorState error={query.error} what="the object" retry={() => void query.refetch()} />
      ) : (
        <CodeView text={body ?? ""} label={`Contents of ${object.key}`} />
      )}
    </div>
  );
}
