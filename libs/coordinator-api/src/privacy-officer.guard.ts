import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { COORDINATOR_CONFIG } from './coordinator.tokens';
import { CoordinatorConfig } from './coordinator-config';

/**
 * The read-only privacy-officer role: `Authorization: Bearer <privacyOfficerToken>`. It is a separate
 * token from the operator's; the operator token does not open these endpoints.
 */
@Injectable()
export class PrivacyOfficerGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(COORDINATOR_CONFIG) config: CoordinatorConfig) {
    this.expected = config.privacyOfficerToken ? createHash('sha256').update(config.privacyOfficerToken).digest() : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) throw new ForbiddenException('no privacy-officer token is configured on this coordinator');
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const match = /^Bearer (.+)$/.exec(request.headers['authorization'] ?? '');
    if (!match || !timingSafeEqual(createHash('sha256').update(match[1]).digest(), this.expected)) {
      throw new UnauthorizedException('a valid privacy-officer token is required (Authorization: Bearer <token>)');
    }
    return true;
  }
}
