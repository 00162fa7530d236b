// A confirmation for operator actions that change the runtime (restart, delete): the native
// <dialog>, so focus is trapped and Escape cancels without code of ours.
import { useEffect, useRef } from 'preact/hooks';

export function Confirm(props: { title: string; body: string; action: string; onConfirm(): void; onCancel(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onCancel={props.onCancel}>
      <h2 id="confirm-title">{props.title}</h2>
      <p>{props.body}</p>
      <div class="row">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={props.onConfirm} autoFocus>
          {props.action}
        </button>
      </div>
    </dialog>
  );
}
