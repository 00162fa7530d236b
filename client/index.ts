// Aurora's typed API client: REST over fetch, the event stream over a WebSocket. One client for
// the command line (bin/cli.ts), the end-to-end tests and the dashboard. Imports nothing of ours
// but runtime/protocol (every wire shape) and runtime/errors (the code → status table).
export { createAuroraClient, DEFAULT_URL, type AuroraClient, type ClientOptions, type PullProgress, type RawReply } from './client.js';
export { AuroraApiError, AuroraConnectionError } from './errors.js';
export {
  connectStream,
  executeOverStream,
  isStreamEvent,
  streamUrl,
  STREAM_PATH,
  type ClientMessage,
  type ExecuteHandlers,
  type ServerMessage,
  type SocketFactory,
  type SocketHandlers,
  type SocketLike,
  type StreamConnection,
  type StreamEvent,
  type StreamFilters,
} from './stream.js';
