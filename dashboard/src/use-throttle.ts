// A refetch driven by the stream: a burst of events asks for one reload, not one per event.
import { useEffect, useRef } from 'preact/hooks';

/**
 * Returns `schedule`: the first call runs `action` after `ms`, and calls until then are folded
 * into it. A pending run is dropped when the view unmounts.
 */
export function useThrottle(action: () => void, ms: number): () => void {
  const latest = useRef(action);
  latest.current = action;
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(pending.current), []);
  return () => {
    if (pending.current !== undefined) return;
    pending.current = setTimeout(() => {
      pending.current = undefined;
      latest.current();
    }, ms);
  };
}
