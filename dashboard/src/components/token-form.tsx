// The token field: kept in sessionStorage and sent with every REST call and on the stream.
import { useState } from 'preact/hooks';
import { authProblem, setToken, token } from '../session.js';

export function TokenForm({ prominent }: { prominent: boolean }) {
  const [draft, setDraft] = useState(token.value);
  return (
    <form
      class={prominent ? 'token-form prominent' : 'token-form'}
      onSubmit={(e) => {
        e.preventDefault();
        setToken(draft);
      }}
    >
      {prominent && (
        <p>
          This Aurora requires a token (<code>AUTH_ENABLED</code>). Paste a bearer JWT, e.g. from{' '}
          <code>npm run token -- --scope "agents:read events:read"</code>.
        </p>
      )}
      {prominent && authProblem.value !== null && <p class="error">{authProblem.value}</p>}
      <label for="token-input">Token</label>
      <input
        id="token-input"
        type="password"
        autocomplete="off"
        value={draft}
        onInput={(e) => setDraft(e.currentTarget.value)}
        placeholder="bearer JWT"
      />
      <button type="submit">Use token</button>
      {token.value !== '' && (
        <button
          type="button"
          onClick={() => {
            setDraft('');
            setToken('');
          }}
        >
          Forget
        </button>
      )}
    </form>
  );
}
