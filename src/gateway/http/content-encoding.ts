import { promisify } from 'node:util';
import type { Transform } from 'node:stream';
import { brotliDecompress, createBrotliDecompress, createGunzip, createInflate, gunzip, inflate } from 'node:zlib';

/*
 * The gateway asks upstreams for uncompressed answers (accept-encoding: identity) and relays
 * bytes unchanged. An upstream that compresses anyway is still read correctly: a decoded copy
 * goes to the adapters, while the client gets the original bytes.
 */

const decoders: Record<string, (data: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

const streams: Record<string, () => Transform> = { gzip: createGunzip, 'x-gzip': createGunzip, deflate: createInflate, br: createBrotliDecompress };

/** A whole body as text, decoded if compressed; undecodable bytes give '' (the adapter then finds no facts). */
export async function decodeBody(raw: Buffer, encoding: string | undefined): Promise<string> {
  const decode = encoding === undefined ? undefined : decoders[encoding.trim().toLowerCase()];
  if (!decode) return raw.toString('utf8');
  try {
    return (await decode(raw)).toString('utf8');
  } catch {
    return '';
  }
}

/** For a compressed stream: a decoder that hands decoded chunks on; undefined when there is nothing to decode. */
export function observationDecoder(
  encoding: string | undefined,
  onChunk: (chunk: Buffer) => void,
): { write(chunk: Buffer): void; end(then: () => void): void } | undefined {
  const make = encoding === undefined ? undefined : streams[encoding.trim().toLowerCase()];
  if (!make) return undefined;
  const stream = make();
  let failed = false;
  stream.on('data', onChunk);
  stream.on('error', () => {
    failed = true;
  });
  return {
    write: (chunk) => {
      if (!failed) stream.write(chunk);
    },
    end: (then) => {
      if (failed) return then();
      stream.once('end', then);
      stream.once('error', then);
      stream.end();
    },
  };
}
