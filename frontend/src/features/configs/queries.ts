import { useQuery } from "@tanstack/react-query";
import { stringify } from "yaml";
import { ApiError, api, unwrap } from "../../api/client";
import type { PipelineConfig, Problem } from "../../api/types";

export function useConfigs(includeArchived: boolean) {
  return useQuery({
    queryKey: ["configs", includeArchived],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/configs", { params: { query: { include_archived: includeArchived } }, signal })),
  });
}

export function useVersions(name: string) {
  return useQuery({
    queryKey: ["config", name, "versions"],
    enabled: name !== "",
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/configs/{name}/versions", { params: { path: { name } }, signal })),
  });
}

/** A stored definition as YAML (the server keeps the validated definition, not the original text). */
export function definitionYaml(config: PipelineConfig): string {
  return stringify(config.definition, { lineWidth: 0, aliasDuplicateObjects: false });
}

export interface ConfigIssue {
  path: string;
  message: string;
  line: number | null;
}

export type SaveResult =
  | { ok: true; config: PipelineConfig; created: boolean }
  | { ok: false; issues: ConfigIssue[]; detail: string };

/** POST /configs with YAML text: a new version, the unchanged one, or the issues. */
export async function saveConfig(text: string, description: string | null): Promise<SaveResult> {
  const query = description ? `?description=${encodeURIComponent(description)}` : "";
  const response = await fetch(`/api/v1/configs${query}`, {
    method: "POST",
    headers: { "Content-Type": "application/yaml", Accept: "application/json" },
    credentials: "same-origin",
    body: text,
  });
  const body = (await response.json()) as unknown;
  if (response.ok) {
    const saved = body as { config: PipelineConfig; created: boolean };
    return { ok: true, config: saved.config, created: saved.created };
  }
  const problem = body as Problem & { issues?: ConfigIssue[] };
  if (response.status === 422) {
    return { ok: false, issues: problem.issues ?? [], detail: problem.detail };
  }
  throw new ApiError(response.status, problem, `${response.status} ${response.statusText}`);
}

export type ValidateResult =
  | { ok: true; name: string; changed: boolean; latestVersion: number | null }
  | { ok: false; issues: ConfigIssue[]; detail: string };

/** POST /configs/validate: what a save would do, or its issues; nothing is stored. */
export async function validateConfig(text: string, signal: AbortSignal): Promise<ValidateResult> {
  const response = await fetch("/api/v1/configs/validate", {
    method: "POST",
    headers: { "Content-Type": "application/yaml", Accept: "application/json" },
    credentials: "same-origin",
    body: text,
    signal,
  });
  const body = (await response.json()) as unknown;
  if (response.ok) {
    const valid = body as { name: string; changed: boolean; latest_version: number | null };
    return { ok: true, name: valid.name, changed: valid.changed, latestVersion: valid.latest_version };
  }
  const problem = body as Problem & { issues?: ConfigIssue[] };
  if (response.status === 422) return { ok: false, issues: problem.issues ?? [], detail: problem.detail };
  throw new ApiError(response.status, problem, `${response.status} ${response.statusText}`);
}
