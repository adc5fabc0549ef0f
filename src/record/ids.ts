import { v7 as uuidv7 } from 'uuid';

/** Time-ordered ids: UUIDv7 sorts by creation time and stays unique across processes. */
export function newId(): string {
  return uuidv7();
}
