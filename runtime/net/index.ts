// Outbound networking on behalf of agents: which destinations are public, the operator's
// exceptions, and a GET that holds to both across DNS and redirects.
export * from './ip-address.js';
export * from './host-allowlist.js';
export * from './text-body.js';
export * from './guarded-fetch.js';
