import { randomFillSync } from 'node:crypto';

/**
 * Random nonces drawn from a block of CSPRNG output refilled in bulk: one randomBytes call per
 * nonce cost about as much as sealing a short prompt. Every byte is handed out once, so nonces
 * stay independent and uniformly random. A nonce is only valid until the next call.
 */
export class NoncePool {
  private readonly block: Buffer;
  private offset: number;

  constructor(
    private readonly size: number,
    count = 1024,
  ) {
    this.block = Buffer.alloc(size * count);
    this.offset = this.block.length;
  }

  next(): Buffer {
    if (this.offset === this.block.length) {
      randomFillSync(this.block);
      this.offset = 0;
    }
    const nonce = this.block.subarray(this.offset, this.offset + this.size);
    this.offset += this.size;
    return nonce;
  }
}
