/**
 * Internal: a request body that can be sent twice (for the one retry after a 401). Strings,
 * ArrayBuffers, typed arrays, URLSearchParams, Blobs and FormData are already reusable; a
 * ReadableStream (or an async iterable) is read into memory first.
 */
export async function replayableBody(
  body: RequestInit['body'] | undefined,
): Promise<RequestInit['body'] | undefined> {
  if (body === undefined || body === null) return body;
  if (
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    body instanceof Blob ||
    body instanceof FormData
  ) {
    return body;
  }
  if (body instanceof ReadableStream) return readAll(body);
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    return readIterable(body as AsyncIterable<Uint8Array>);
  }
  return body;
}

async function readAll(stream: ReadableStream<unknown>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const {done, value} = await reader.read();
    if (done) break;
    chunks.push(toBytes(value));
  }
  return concat(chunks);
}

async function readIterable(iterable: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of iterable) chunks.push(toBytes(chunk));
  return concat(chunks);
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value))
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('request body stream yielded a chunk that is not bytes or a string');
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  let length = 0;
  for (const chunk of chunks) length += chunk.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
