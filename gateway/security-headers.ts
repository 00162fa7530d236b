// Headers every HTTP response carries. The API answers JSON only, so the strictest settings cost
// nothing: no sniffing a JSON body into HTML or script, no framing, no referrer leaking URLs that
// hold agent names or task ids, no caching of answers that may carry tenant data, and a CSP that
// lets a response load nothing at all. A route serving HTML (the API docs) overrides
// `content-security-policy` (and `cache-control` if it wants caching) in its own response headers.
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
} as const satisfies Readonly<Record<string, string>>;
