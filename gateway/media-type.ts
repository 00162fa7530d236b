// What a request body must say it is. Every body Aurora reads is JSON, and it used to parse any
// body as JSON whatever its Content-Type: so a browser's "simple" cross-site request (text/plain,
// no preflight) ran tasks, and a client sending the wrong type got an answer instead of a hint.
// Accepted: application/json and any structured-syntax type ending in +json (RFC 6839), with any
// parameters; a charset, if given, must be UTF-8, the only encoding JSON may use (RFC 8259 §8.1).

/** Undefined when `contentType` announces JSON Aurora can read; else the 415 detail. */
export function jsonMediaTypeRefusal(contentType: string | undefined): string | undefined {
  if (contentType === undefined || contentType.trim() === '') {
    return 'Content-Type is missing; send the body as application/json';
  }
  const [essence = '', ...params] = contentType.split(';');
  const type = essence.trim().toLowerCase();
  if (!isJsonType(type)) {
    return `Content-Type ${JSON.stringify(type.slice(0, 100))} is not supported; send the body as application/json`;
  }
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      return `charset ${JSON.stringify(charset.slice(0, 40))} is not supported; JSON bodies are UTF-8`;
    }
  }
  return undefined;
}

/** `application/json`, or `type/subtype+json` with RFC 6838 token characters on both sides. */
function isJsonType(type: string): boolean {
  if (type === 'application/json') return true;
  return /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*\+json$/.test(type);
}
