import { useQueryClient } from "@tanstack/react-query";
import { useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { parseDocument } from "yaml";
import { ErrorState, Loading } from "../../components/States";
import {
  definitionYaml,
  saveConfig,
  useVersions,
  validateConfig,
  type ConfigIssue,
  type ValidateResult,
} from "./queries";

/** Quiet time after the last keystroke before the server checks the text. */
const VALIDATE_AFTER_MS = 350;

const TEMPLATE = `name: my-pipeline
description: What this pipeline does.
params:
  items:
    type: list
    default: [{text: "FactFlow 1.0 was released on 2026-01-01."}]
routes:
  source:
    adapter: {type: inline, with: {items: "{items}"}}
    to: facts
  facts:
    processors: [{type: extract_facts}]
`;

/** Syntax problems found at once, in the browser (the server checks the rest). */
export function yamlIssues(text: string): ConfigIssue[] {
  const document = parseDocument(text, { prettyErrors: true });
  return document.errors.map((error) => ({
    path: "(yaml)",
    message: error.message.split("\n")[0] ?? error.message,
    line: error.linePos?.[0]?.line ?? null,
  }));
}

/** /configs/new and /configs/:name/edit?from=N — write a config, save it as a new version. */
export function EditorPage() {
  const { name } = useParams();
  const [search] = useSearchParams();
  const versions = useVersions(name ?? "");
  if (name && versions.isPending) return <Loading what={`config ${name}`} />;
  if (name && versions.isError) return <ErrorState error={versions.error} what={`config ${name}`} />;
  const items = versions.data?.items ?? [];
  const from = items.find((c) => c.version === Number(search.get("from"))) ?? items.at(-1);
  const initial = from ? definitionYaml(from) : TEMPLATE;
  return <Editor key={from?.id ?? "new"} initial={initial} name={name} />;
}

function Editor({ initial, name }: { initial: string; name: string | undefined }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [text, setText] = useState(initial);
  const [serverIssues, setServerIssues] = useState<ConfigIssue[]>([]);
  const [check, setCheck] = useState<{ text: string; result: ValidateResult } | null>(null);
  const [detail, setDetail] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const deferred = useDeferredValue(text);
  const syntax = useMemo(() => yamlIssues(deferred), [deferred]);
  const gutter = useRef<HTMLPreElement>(null);
  const lines = text.split("\n").length;
  // As you type: the server's dry run of a save (POST /configs/validate) once
  // the text is well-formed YAML and the typing pauses; older checks abort.
  useEffect(() => {
    if (syntax.length > 0) return undefined;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      validateConfig(deferred, controller.signal)
        .then((result) => setCheck({ text: deferred, result }))
        .catch(() => undefined); // aborted, or the server is away: saving says why
    }, VALIDATE_AFTER_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [deferred, syntax.length]);
  const current = check !== null && check.text === text ? check.result : null;
  const validated = current?.ok === false ? current.issues : [];
  const issues = syntax.length > 0 ? syntax : serverIssues.length > 0 ? serverIssues : validated;
  const marked = new Set(issues.map((i) => i.line).filter((l): l is number => l !== null));

  const save = async () => {
    setSaving(true);
    setDetail(null);
    try {
      const result = await saveConfig(text, null);
      if (result.ok) {
        await client.invalidateQueries({ queryKey: ["configs"] });
        await client.invalidateQueries({ queryKey: ["config", result.config.name] });
        void navigate(`/configs/${result.config.name}?version=${result.config.version}`);
      } else {
        setServerIssues(result.issues);
        setDetail(result.detail);
      }
    } catch (error) {
      setDetail(error instanceof Error ? error.message : String(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <section aria-labelledby="editor-title">
      <div className="page-header">
        <h1 id="editor-title">{name ? `Edit ${name}` : "New config"}</h1>
        <div className="actions">
          {name && (
            <Link className="button" to={`/configs/${name}`}>
              Back
            </Link>
          )}
          <button type="button" className="primary" disabled={saving || syntax.length > 0} onClick={() => void save()}>
            {saving ? "Saving…" : "Save version"}
          </button>
        </div>
      </div>
      <div className="editor card">
        <pre className="gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lines }, (_, i) => (
            <span key={i} className={marked.has(i + 1) ? "marked" : undefined}>
              {i + 1}
              {"\n"}
            </span>
          ))}
        </pre>
        <textarea
          aria-label="Config YAML"
          aria-describedby="editor-issues"
          spellCheck={false}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setServerIssues([]);
          }}
          onScroll={(e) => {
            if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
          }}
          onKeyDown={(e) => {
            // Tab indents (two spaces) instead of leaving the editor; Escape then Tab leaves.
            if (e.key === "Tab" && !e.shiftKey && !e.altKey) {
              e.preventDefault();
              const el = e.currentTarget;
              const { selectionStart, selectionEnd } = el;
              const next = `${text.slice(0, selectionStart)}  ${text.slice(selectionEnd)}`;
              setText(next);
              requestAnimationFrame(() => el.setSelectionRange(selectionStart + 2, selectionStart + 2));
            }
            if (e.key === "Escape") e.currentTarget.blur();
          }}
        />
      </div>
      <div id="editor-issues" aria-live="polite" data-testid="editor-issues">
        {issues.length === 0 ? (
          <p className="muted small" data-testid="editor-status">
            {current?.ok
              ? current.changed
                ? `Valid. Saving creates ${current.name} version ${(current.latestVersion ?? 0) + 1}.`
                : `Valid, and identical to ${current.name} v${current.latestVersion ?? 1}: saving changes nothing.`
              : "Checking…"}
          </p>
        ) : (
          <ul className="issues">
            {issues.map((issue, index) => (
              <li key={index} className="form-error">
                {issue.line !== null && <span className="mono">line {issue.line}: </span>}
                <code>{issue.path}</code> {issue.message}
              </li>
            ))}
          </ul>
        )}
        {detail && serverIssues.length === 0 && <p className="form-error">{detail}</p>}
      </div>
    </section>
  );
}
