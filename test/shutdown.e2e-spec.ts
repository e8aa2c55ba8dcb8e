import { connect, Socket } from 'node:net';
import { buildCustomer } from './support/factories';
import { ServiceProcess } from './support/service-process';
import { tokenFor } from './support/tokens';

/**
 * Graceful shutdown of the real process over real sockets: `node dist/src/main.js`, SIGTERM, and
 * clients written on raw sockets, so that exactly what the server writes and when it closes is seen.
 */

interface RawClient {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
}

function rawClient(port: number): Promise<RawClient> {
  return new Promise((resolveClient, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolveClient({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((wait) => setTimeout(wait, 20));
  }
}

/** A POST /v1/customers whose body is held back: half is sent now, the rest by `finish()`. */
async function slowCreate(port: number, tenant: string) {
  const client = await rawClient(port);
  const body = JSON.stringify(buildCustomer());
  const half = Math.floor(body.length / 2);
  client.socket.write(
    'POST /v1/customers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
      `Authorization: Bearer ${tokenFor(tenant)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body.slice(0, half),
  );
  return { client, finish: () => client.socket.write(body.slice(half)) };
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);

describe('graceful shutdown (a real process)', () => {
  let service: ServiceProcess | undefined;

  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  it('on SIGTERM: ready turns 503, in-flight requests finish with Connection: close, idle sockets close, the process exits', async () => {
    service = await ServiceProcess.start({ SHUTDOWN_TIMEOUT_MS: '8000' });
    const { port } = service;
    const tenant = '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

    // An idle keep-alive connection: one answered request, then nothing.
    const idle = await rawClient(port);
    idle.socket.write('GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await until(() => idle.received().includes('"up"'), 5_000, 'the idle client’s answer');
    expect(idle.received()).toMatch(/connection: keep-alive/i);

    // Requests in flight at the signal: bodies half sent, and a readiness probe half written.
    const creates = await Promise.all(Array.from({ length: 10 }, () => slowCreate(port, tenant)));
    const probe = await rawClient(port);
    probe.socket.write('GET /health/ready HTTP/1.1\r\nHost: localhost\r\n');
    await new Promise((wait) => setTimeout(wait, 200));

    const signalledAt = Date.now();
    service.signal('SIGTERM');
    await until(() => service!.output.includes('draining'), 5_000, 'the drain to start');

    // The idle connection is closed by the server, without an answer it did not ask for.
    await idle.closed;
    probe.socket.write('\r\n');
    await probe.closed;
    expect(statusOf(probe.received())).toBe(503);
    expect(probe.received()).toMatch(/connection: close/i);

    for (const create of creates) create.finish();
    await Promise.all(creates.map(({ client }) => client.closed));
    for (const { client } of creates) {
      expect(statusOf(client.received())).toBe(201);
      expect(client.received()).toMatch(/connection: close/i);
    }

    await expect(service.exited).resolves.toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(8_000);
    expect(service.output).toMatch(/SIGTERM: draining \d+ open connection/);
    expect(service.output).toMatch(/Drained in \d+ ms/);
  });

  it('keeps accepting connections for SHUTDOWN_DELAY_MS, answering them not ready and closing them', async () => {
    service = await ServiceProcess.start({
      SHUTDOWN_TIMEOUT_MS: '8000',
      SHUTDOWN_DELAY_MS: '1500',
    });
    const { port } = service;
    const signalledAt = Date.now();
    service.signal('SIGTERM');
    await until(() => service!.output.includes('draining'), 5_000, 'the drain to start');

    // A connection opened during the delay (a load balancer that has not noticed yet) is served.
    const late = await rawClient(port);
    late.socket.write('GET /health/ready HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await late.closed;
    expect(Date.now() - signalledAt).toBeLessThan(1_500);
    expect(statusOf(late.received())).toBe(503);
    expect(late.received()).toMatch(/connection: close/i);

    await expect(service.exited).resolves.toBe(0);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(1_400);
    expect(service.output).toMatch(/accepting new ones for 1500 ms/);
  });

  it('cuts off what is still open after SHUTDOWN_TIMEOUT_MS and exits', async () => {
    service = await ServiceProcess.start({ SHUTDOWN_TIMEOUT_MS: '1000' });
    // A body that never arrives (the body timeout, 10 s, is longer than the drain).
    const stuck = await slowCreate(service.port, '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d');
    await new Promise((wait) => setTimeout(wait, 200));

    const signalledAt = Date.now();
    service.signal('SIGINT');
    await expect(service.exited).resolves.toBe(0);
    const took = Date.now() - signalledAt;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5_000);
    await stuck.client.closed;
    expect(service.output).toMatch(/Drain cut off after 1000 ms: closed 1 connection/);
  });

  it('refuses to start outside development mode without a way to verify tokens', async () => {
    await expect(
      ServiceProcess.start({ NODE_ENV: 'production', AUTH_JWT_SECRET: '' }),
    ).rejects.toThrow(/exited \(1\)[\s\S]*AUTH_JWT_SECRET[\s\S]*AUTH_JWKS_URI/);
    await expect(ServiceProcess.start({ NODE_ENV: '', AUTH_JWT_SECRET: '' })).rejects.toThrow(
      /NODE_ENV=development/,
    );
  });
});
