// A view's REST snapshot: fetched after each confirmed subscription (live.ts `generation`) and
// whenever `deps` change, so the deltas that follow it are never older than it.
import { useEffect, useState } from 'preact/hooks';
import type { AuroraClient } from '../../client/index.js';
import { api, describeError, isForbidden } from './api.js';
import { generation } from './live.js';

export interface Snapshot<T> {
  data: T | undefined;
  error: string | undefined;
  forbidden: boolean;
  reload(): void;
}

export function useSnapshot<T>(fetch: (c: AuroraClient) => Promise<T>, deps: readonly unknown[] = []): Snapshot<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [forbidden, setForbidden] = useState(false);
  const [nonce, setNonce] = useState(0);
  const gen = generation.value;
  useEffect(() => {
    let live = true;
    api(fetch).then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(undefined);
        setForbidden(false);
      },
      (err: unknown) => {
        if (!live) return;
        setError(describeError(err));
        setForbidden(isForbidden(err));
      },
    );
    return () => {
      live = false;
    };
    // `fetch` is a new closure each render; what it depends on is in `deps`
  }, [gen, nonce, ...deps]);
  return { data, error, forbidden, reload: () => setNonce((n) => n + 1) };
}
