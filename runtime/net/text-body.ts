// Which response bodies are text, and how their bytes become a string: the charset comes from a
// byte-order mark, else the Content-Type header, else an HTML <meta> or XML declaration, else UTF-8.
import { TextDecoder } from 'node:util';

export interface MediaType {
  /** `type/subtype`, lower case; '' when the header is absent or unreadable. */
  readonly essence: string;
  readonly charset: string | null;
}

export function parseContentType(header: string | undefined): MediaType {
  if (!header) return { essence: '', charset: null };
  const [head = '', ...params] = header.split(';');
  const essence = head.trim().toLowerCase();
  let charset: string | null = null;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1') || null;
  }
  return { essence: /^[\w.+-]+\/[\w.+-]+$/.test(essence) ? essence : '', charset };
}

/** text/*, JSON, XML and JavaScript, including the `+json` / `+xml` structured suffixes. */
export function isTextual(type: MediaType): boolean {
  const { essence } = type;
  if (essence.startsWith('text/')) return true;
  const subtype = essence.slice(essence.indexOf('/') + 1);
  return (
    /(^|\+)(json|xml)$/.test(subtype) ||
    subtype === 'javascript' ||
    subtype === 'x-javascript' ||
    subtype === 'ecmascript' ||
    subtype === 'x-ndjson'
  );
}

/** A body without a Content-Type is read as text unless its first bytes hold a NUL (binary). */
export function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 1024).includes(0);
}

/**
 * Decodes `bytes`. When the body was cut short, an incomplete character at the end is dropped
 * rather than shown as U+FFFD.
 */
export function decodeText(bytes: Uint8Array, type: MediaType, truncated: boolean): string {
  const decoder = decoderFor(bomCharset(bytes) ?? type.charset ?? declaredCharset(bytes, type) ?? 'utf-8');
  return decoder.decode(bytes, { stream: truncated });
}

function decoderFor(label: string): TextDecoder {
  try {
    return new TextDecoder(label);
  } catch {
    // An unknown label is the server's mistake; UTF-8 is the best guess the web has.
    return new TextDecoder('utf-8');
  }
}

function bomCharset(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  return null;
}

/** `<meta charset=…>` / `<meta http-equiv … charset=…>` in HTML, `<?xml … encoding=…?>` in XML, within the first KiB. */
function declaredCharset(bytes: Uint8Array, type: MediaType): string | null {
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  if (type.essence === 'text/html' || type.essence === '') {
    const meta = /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head);
    if (meta) return meta[1] ?? null;
  }
  if (type.essence.endsWith('xml') || type.essence === '') {
    const decl = /^<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)["']/i.exec(head);
    if (decl) return decl[1] ?? null;
  }
  return null;
}
