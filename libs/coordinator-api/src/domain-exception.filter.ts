import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus } from '@nestjs/common';
import { CoordinatorError, CoordinatorErrorCode } from '@medfed/coordinator-core';
import { ProtocolError } from '@medfed/protocol';
import { DuplicateError, NotFoundError } from '@medfed/coordinator-store';

const STATUS: Partial<Record<CoordinatorErrorCode, number>> = {
  UNKNOWN_STUDY: HttpStatus.NOT_FOUND,
  NOT_ENROLLED: HttpStatus.NOT_FOUND,
  INVALID_STATE: HttpStatus.CONFLICT,
  INVALID_ENROLMENT: HttpStatus.BAD_REQUEST,
};

/** Maps the coordinator's domain errors to HTTP answers that name the problem. */
@Catch(CoordinatorError, ProtocolError, DuplicateError, NotFoundError)
export class DomainExceptionFilter implements ExceptionFilter {
  catch(err: CoordinatorError | ProtocolError | DuplicateError | NotFoundError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<{ status(code: number): { json(body: unknown): void } }>();
    let status: number = HttpStatus.BAD_REQUEST;
    let code = 'BAD_REQUEST';
    if (err instanceof CoordinatorError) {
      status = STATUS[err.code] ?? HttpStatus.BAD_REQUEST;
      code = err.code;
    } else if (err instanceof ProtocolError) {
      code = err.code;
    } else if (err instanceof DuplicateError) {
      status = HttpStatus.CONFLICT;
      code = 'DUPLICATE';
    } else {
      status = HttpStatus.NOT_FOUND;
      code = 'NOT_FOUND';
    }
    response.status(status).json({ statusCode: status, code, message: err.message });
  }
}
