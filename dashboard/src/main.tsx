// Entry point: the styles, the tab's stream, and the shell.
import { render } from 'preact';
import { App } from './app.js';
import { startLive } from './live.js';
import './styles.css';

startLive();
render(<App />, document.getElementById('app')!);
