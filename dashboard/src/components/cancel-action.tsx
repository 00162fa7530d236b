// Cancel a task or a run, after a confirmation. A token without tasks:execute sees the button
// disabled and why, rather than a 403 after the click.
import { useState } from 'preact/hooks';
import { api, describeError } from '../api.js';
import type { AuroraClient } from '../../../client/index.js';
import { allows } from '../session.js';
import { Confirm } from './confirm.js';

export const CANCEL_SCOPE = 'tasks:execute';

export function CancelAction(props: { what: string; cancel(c: AuroraClient): Promise<unknown>; onDone(): void }) {
  const [asking, setAsking] = useState(false);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const allowed = allows(CANCEL_SCOPE);
  const confirm = () => {
    setAsking(false);
    api(props.cancel).then(
      () => {
        setMessage(`Cancel requested for the ${props.what}.`);
        props.onDone();
      },
      (err: unknown) => setMessage(describeError(err)),
    );
  };
  return (
    <div class="row">
      <button type="button" class="danger" data-testid="cancel-button" disabled={!allowed} onClick={() => setAsking(true)}>
        Cancel {props.what}
      </button>
      {!allowed && (
        <span class="muted" data-testid="cancel-disabled">
          Cancelling needs a token with the <code>{CANCEL_SCOPE}</code> scope (or <code>admin</code>).
        </span>
      )}
      {message !== undefined && <span role="status">{message}</span>}
      {asking && (
        <Confirm
          title={`Cancel this ${props.what}?`}
          body={`The ${props.what} stops where it is, down to its model calls; it cannot be resumed.`}
          action={`Cancel ${props.what}`}
          onConfirm={confirm}
          onCancel={() => setAsking(false)}
        />
      )}
    </div>
  );
}
