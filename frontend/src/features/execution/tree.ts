// A message's ancestry (parent chain up to its origin) and descendants (every
// message derived from it), from lineage records.
import type { LineageRecord } from "../../api/types";

export interface MessageTree {
  record: LineageRecord | undefined;
  /** From the origin down to the message's parent. */
  ancestry: LineageRecord[];
  /** Depth-first, with each record's depth below the message (1 = child). */
  descendants: { record: LineageRecord; depth: number }[];
}

export function messageTree(records: readonly LineageRecord[], messageId: string, maxDescendants = 500): MessageTree {
  const byId = new Map<string, LineageRecord>();
  const children = new Map<string, LineageRecord[]>();
  for (const record of records) {
    // A message has one record per attempt outcome; keep the latest.
    byId.set(record.message_id, record);
    if (record.parent_message_id) {
      const siblings = children.get(record.parent_message_id) ?? [];
      siblings.push(record);
      children.set(record.parent_message_id, siblings);
    }
  }
  const record = byId.get(messageId);
  const ancestry: LineageRecord[] = [];
  const seen = new Set<string>([messageId]);
  let parent = record?.parent_message_id ?? null;
  while (parent !== null && !seen.has(parent)) {
    seen.add(parent);
    const found = byId.get(parent);
    if (!found) break;
    ancestry.unshift(found);
    parent = found.parent_message_id;
  }
  const descendants: { record: LineageRecord; depth: number }[] = [];
  const walk = (id: string, depth: number) => {
    for (const child of children.get(id) ?? []) {
      if (descendants.length >= maxDescendants || seen.has(child.message_id)) continue;
      seen.add(child.message_id);
      descendants.push({ record: child, depth });
      walk(child.message_id, depth + 1);
    }
  };
  walk(messageId, 1);
  return { record, ancestry, descendants };
}
