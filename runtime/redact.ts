/** The URL without its password, safe for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** The URL with no user name or password at all, for lines that say where a service is. */
export function withoutCredentials(url: string): string {
  // Untouched when there is nothing to remove: URL parsing would add a trailing slash.
  if (!url.includes('@')) return url;
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
