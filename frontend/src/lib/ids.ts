// Short forms of execution ids that tell runs apart and that the CLI and the
// API accept as prefixes (factflow_cli/_ids.py: `short_ids`, same rule).
//
// Ids are UUIDv7: their first 13 characters are the creation time in
// milliseconds, so runs created together share a long prefix and the first
// 8 characters are the same for every run of a day. A short id is the
// shortest prefix of at least 13 characters that no other id on the page
// shares (and that does not end on a "-").

/** The CLI's `SHORT_ID`: an id through its millisecond timestamp. */
export const SHORT_ID = 13;

function common(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n += 1;
  return n;
}

/** Each id → its shortest prefix (≥ `minimum` characters) that no other id in `ids` shares. */
export function shortIds(ids: readonly string[], minimum = SHORT_ID): Map<string, string> {
  const ordered = [...new Set(ids)].sort();
  const result = new Map<string, string>();
  ordered.forEach((id, index) => {
    let length = minimum;
    for (const neighbour of [ordered[index - 1], ordered[index + 1]]) {
      if (neighbour !== undefined) length = Math.max(length, common(id, neighbour) + 1);
    }
    if (length < id.length && id[length - 1] === "-") length += 1;
    result.set(id, id.slice(0, length));
  });
  return result;
}
