import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual, createHash } from 'node:crypto';
import { COORDINATOR_CONFIG } from './coordinator.tokens';
import { CoordinatorConfig } from './coordinator-config';

/** Operators authenticate to the REST API with `Authorization: Bearer <adminToken>`. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(COORDINATOR_CONFIG) config: CoordinatorConfig) {
    this.expected = createHash('sha256').update(config.adminToken).digest();
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const header = request.headers['authorization'] ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    // Compare digests so the comparison is constant-time whatever the presented length.
    if (!match || !timingSafeEqual(createHash('sha256').update(match[1]).digest(), this.expected)) {
      throw new UnauthorizedException('a valid operator token is required (Authorization: Bearer <token>)');
    }
    return true;
  }
}
