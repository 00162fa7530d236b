// The shell: navigation, the token field, the stream's state, and the view on screen. A view the
// token's scopes do not allow says so instead of failing on its first request.
import { Forbidden } from './components/forbidden.js';
import { TokenForm } from './components/token-form.js';
import { streamState } from './live.js';
import { VIEWS, view, type ViewId } from './route.js';
import { allows, authProblem, authRequired, token } from './session.js';
import { Agents } from './views/agents.js';
import { Events } from './views/events.js';
import { Models } from './views/models.js';
import { Overview } from './views/overview.js';
import { Run } from './views/run.js';
import { Tasks } from './views/tasks.js';
import { Tree } from './views/tree.js';

const SCREENS: Record<ViewId, () => preact.JSX.Element> = {
  overview: Overview,
  tree: Tree,
  agents: Agents,
  events: Events,
  run: Run,
  tasks: Tasks,
  models: Models,
};

export function App() {
  const current = VIEWS.find((v) => v.id === view.value)!;
  const needToken = authRequired.value && (token.value === '' || authProblem.value !== null);
  const Screen = SCREENS[current.id];
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span class="brand">Aurora</span>
        <nav aria-label="Views">
          <ul>
            {VIEWS.map((v) => (
              <li key={v.id}>
                <a href={`#/${v.id}`} aria-current={v.id === current.id ? 'page' : undefined}>
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class={`stream stream-${streamState.value}`} role="status" aria-label={`Event stream ${streamState.value}`}>
          ● {streamState.value}
        </span>
        {authRequired.value && !needToken && <TokenForm prominent={false} />}
      </header>
      <main id="main" tabIndex={-1}>
        {needToken ? (
          <TokenForm prominent={true} />
        ) : !allows(current.scope) ? (
          <Forbidden scope={current.scope} what={`The ${current.label} view`} />
        ) : (
          <Screen />
        )}
      </main>
    </div>
  );
}
