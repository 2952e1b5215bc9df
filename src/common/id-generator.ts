import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

/** Random ids as a dependency, so tests can make them predictable. */
@Injectable()
export class IdGenerator {
  uuid(): string {
    return randomUUID();
  }
}
