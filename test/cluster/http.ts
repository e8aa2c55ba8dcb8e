import { Agent, IncomingHttpHeaders, request as httpRequest } from 'node:http';

/** One answer, or the lack of one (status 0), with the client-side times. */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: any;
  /** performance.now() when the request left and when its answer (or failure) arrived. */
  sent: number;
  received: number;
  ms: number;
  error?: string;
}

export interface CallOptions {
  headers?: Record<string, string>;
  body?: unknown;
  /** The client gives up then and records status 0, so that a hang is recorded, not waited for. */
  timeoutMs?: number;
}

/** A request over keep-alive connections to one service instance on loopback. Never rejects. */
export function call(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  { headers = {}, body, timeoutMs = 15_000 }: CallOptions = {},
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const sent = performance.now();
  return new Promise((resolve) => {
    // `timer` is set below, before any answer or error can arrive (both come asynchronously).
    const finish = (answer: Omit<Answer, 'sent' | 'received' | 'ms'>) => {
      clearTimeout(timer);
      const received = performance.now();
      resolve({ ...answer, sent, received, ms: received - sent });
    };
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent,
        headers: {
          ...headers,
          ...(payload !== undefined && {
            'Content-Type': 'application/json',
            'Content-Length': String(Buffer.byteLength(payload)),
          }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            // Not JSON: keep the text.
          }
          finish({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
        res.on('error', (error) =>
          finish({ status: 0, headers: {}, body: undefined, error: error.message }),
        );
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('error', (error) =>
      finish({ status: 0, headers: {}, body: undefined, error: error.message }),
    );
    req.end(payload);
  });
}

/** `201`, `201 replayed`, `409 / 600010`, `0 (error)`: how an answer is counted. */
export function label(answer: Answer): string {
  if (answer.status === 0) return `0 (${answer.error})`;
  const replayed = answer.headers['idempotent-replayed'] === 'true' ? ' replayed' : '';
  const code =
    answer.status >= 400 && typeof answer.body?.code === 'number'
      ? ` / ${answer.body.code as number}`
      : '';
  return `${answer.status}${replayed}${code}`;
}

/** How many of each, sorted by the key: `{ '201': 1, '409 / 600010': 29 }`. */
export function tally(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of [...keys].sort()) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

export function retryAfterIsValid(answer: Answer): boolean {
  const value = answer.headers['retry-after'];
  return typeof value === 'string' && /^\d+$/.test(value) && Number(value) >= 1;
}

/** CONTRACT section 4: `{ code, description, data, source }`. */
export function isContractError(body: any, code: number): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    body.code === code &&
    typeof body.description === 'string' &&
    Array.isArray(body.data) &&
    body.source === 'CustomerService'
  );
}

export const times = <T>(count: number, make: (i: number) => T): T[] =>
  Array.from({ length: count }, (_, i) => make(i));

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)];
}

export const round = (ms: number) => Math.round(ms * 10) / 10;
