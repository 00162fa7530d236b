// Keyset paging (the API's next_cursor) with a way back: the cursors of the pages before the one
// on screen are kept, so the page holds one page of rows and a short stack of strings.
import { useState } from 'preact/hooks';

export interface KeysetPages {
  /** The cursor of the page on screen; undefined for the first. */
  cursor: string | undefined;
  /** 1-based page number. */
  page: number;
  next(cursor: string): void;
  prev(): void;
  reset(): void;
}

export function useKeysetPages(): KeysetPages {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  return {
    cursor: stack.at(-1),
    page: stack.length,
    next: (cursor) => setStack((s) => [...s, cursor]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack([undefined]),
  };
}

export function Pager(props: { pages: KeysetPages; nextCursor: string | null | undefined; label: string }) {
  const { pages, nextCursor } = props;
  return (
    <nav class="row" aria-label={`${props.label} pages`}>
      <button type="button" disabled={pages.page === 1} onClick={pages.prev}>
        Previous page
      </button>
      <span class="muted">Page {pages.page}</span>
      <button type="button" disabled={nextCursor == null} onClick={() => nextCursor != null && pages.next(nextCursor)}>
        Next page
      </button>
    </nav>
  );
}
