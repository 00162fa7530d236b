// The two guards behind "one Aurora per port", on real sockets in this process (SO_REUSEPORT
// shares a port within one process as readily as between two): the gateway's exclusive uWS listen,
// and the early check the composition root makes before it opens a database.
import { afterEach, describe, expect, it } from 'vitest';
import { assertPortFree } from '../../gateway/port-check.js';
import { createUwsApp, listen, PortUnavailableError, type Listening } from '../../gateway/uws.js';

describe('listening on a port', () => {
  const open: Listening[] = [];
  afterEach(() => {
    for (const l of open.splice(0)) l.close();
  });

  async function served(): Promise<Listening> {
    const l = await listen(createUwsApp(), '127.0.0.1', 0);
    open.push(l);
    return l;
  }

  it('refuses a second uWS app on a port a first one serves, instead of sharing it', async () => {
    const first = await served();
    const second = listen(createUwsApp(), '127.0.0.1', first.port);
    await expect(second).rejects.toBeInstanceOf(PortUnavailableError);
    await expect(second).rejects.toThrow(`Cannot listen on 127.0.0.1:${first.port}: the port is already in use`);
  });

  it('the early check says the port is in use while a gateway serves it, and passes once it is closed', async () => {
    const first = await served();
    await expect(assertPortFree('127.0.0.1', first.port)).rejects.toThrow(
      `Cannot listen on 127.0.0.1:${first.port}: the port is already in use. Another Aurora`,
    );
    first.close();
    await expect(assertPortFree('127.0.0.1', first.port)).resolves.toBeUndefined();
    // The check released the port again: the gateway can take it.
    open.push(await listen(createUwsApp(), '127.0.0.1', first.port));
  });

  it('the early check names an address that is not this machine’s', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a host.
    await expect(assertPortFree('192.0.2.1', 8000)).rejects.toThrow(
      'Cannot listen on 192.0.2.1:8000: HOST is not an address of this machine. Check HOST and PORT.',
    );
  });

  it('the early check always passes for port 0 (the OS picks a free one)', async () => {
    await expect(assertPortFree('127.0.0.1', 0)).resolves.toBeUndefined();
  });
});
