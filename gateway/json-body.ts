// Turning request bytes into a JSON value under the rules hostile input needs: the bytes must be
// valid UTF-8 (a lenient decoder would swap bad bytes for U+FFFD and accept, then store, text the
// client never sent), and arrays/objects may nest only so deep. JSON.parse itself copes with any
// depth, but everything after it that recurses (JSON.stringify on the bus, structuredClone,
// serialisers) overflows the stack on the same input, so depth is refused up front.

export type JsonBody = { ok: true; value: unknown } | { ok: false; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function parseJsonBody(bytes: Uint8Array, maxDepth: number): JsonBody {
  // The decoder would drop a leading BOM silently. JSON must not carry one (RFC 8259 §8.1); it
  // is refused so a client that adds it hears so, rather than having bytes edited for it.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { ok: false, detail: 'Request body starts with a UTF-8 byte-order mark (EF BB BF); send JSON without one' };
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, detail: 'Request body is not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, detail: 'Invalid JSON body' };
  }
  if (nestsDeeperThan(value, maxDepth)) {
    return { ok: false, detail: `Request body nests arrays and objects deeper than ${maxDepth} levels` };
  }
  return { ok: true, value };
}

/**
 * True when arrays/objects inside `value` nest more than `maxDepth` levels (`{}` and `[]` are one
 * level, a scalar none). Iterative, so the check itself cannot overflow the stack.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: { node: object; depth: number }[] = [];
  if (typeof value === 'object' && value !== null) pending.push({ node: value, depth: 1 });
  while (pending.length > 0) {
    const { node, depth } = pending.pop()!;
    if (depth > maxDepth) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) pending.push({ node: child, depth: depth + 1 });
    }
  }
  return false;
}
