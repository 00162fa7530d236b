// What a view says when the token's scopes do not allow it: which scope it needs, so an operator
// knows what token to ask for.
export function Forbidden({ scope, what }: { scope: string; what: string }) {
  return (
    <div class="notice" role="status">
      <strong>Not allowed.</strong> {what} needs a token with the <code>{scope}</code> scope (or <code>admin</code>); the
      current token does not carry it.
    </div>
  );
}
