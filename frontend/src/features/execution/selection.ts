// Messages picked in the lineage explorer, for "replay selected".
import { createContext, useContext } from "react";

export interface Selection {
  ids: ReadonlySet<string>;
  toggle: (messageId: string) => void;
  clear: () => void;
}

export const SelectionContext = createContext<Selection>({
  ids: new Set(),
  toggle: () => undefined,
  clear: () => undefined,
});

export function useSelection(): Selection {
  return useContext(SelectionContext);
}
