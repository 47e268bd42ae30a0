import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { EnvelopeHeader, EnvelopeHeaderDto } from './dto/envelope-header.dto';
import { EvaluateResultBody, EvaluateResultBodyDto } from './dto/evaluate-result.dto';
import { EvaluateTaskBody, EvaluateTaskBodyDto } from './dto/evaluate-task.dto';
import { HelloBody, HelloBodyDto } from './dto/hello.dto';
import { ReceiptBody, ReceiptBodyDto } from './dto/receipt.dto';
import { RejectedBody, RejectedBodyDto } from './dto/rejected.dto';
import { StudySpecDto } from './dto/study-spec.dto';
import { TaskDeclinedBody, TaskDeclinedBodyDto } from './dto/task-declined.dto';
import { TrainResultBody, TrainResultBodyDto } from './dto/train-result.dto';
import { TrainTaskBody, TrainTaskBodyDto } from './dto/train-task.dto';
import { WelcomeBody, WelcomeBodyDto } from './dto/welcome.dto';
import { SecAggDownBodyDto, SecAggDownStep, SecAggStepBody, SecAggUpBodyDto, SecAggUpStep } from './dto/secagg-step.dto';
import { StatisticsResultBody, StatisticsResultBodyDto, StatisticsTaskBody, StatisticsTaskBodyDto } from './dto/statistics.dto';
import { MessageKind, isMessageKind } from './message-kind';
import { ProtocolError } from './protocol-error';
import { StudySpec } from './study';

/** The body type each message kind carries. */
export interface BodyForKind {
  [MessageKind.Hello]: HelloBody;
  [MessageKind.Welcome]: WelcomeBody;
  [MessageKind.TrainTask]: TrainTaskBody;
  [MessageKind.EvaluateTask]: EvaluateTaskBody;
  [MessageKind.TrainResult]: TrainResultBody;
  [MessageKind.EvaluateResult]: EvaluateResultBody;
  [MessageKind.TaskDeclined]: TaskDeclinedBody;
  [MessageKind.Rejected]: RejectedBody;
  [MessageKind.Receipt]: ReceiptBody;
  [MessageKind.SecAggUp]: SecAggStepBody<SecAggUpStep>;
  [MessageKind.SecAggDown]: SecAggStepBody<SecAggDownStep>;
  [MessageKind.StatisticsTask]: StatisticsTaskBody;
  [MessageKind.StatisticsResult]: StatisticsResultBody;
}

type DtoClass = new () => object;

/** The class-validator DTO class for each kind's body. */
export const BODY_DTOS: Readonly<Record<MessageKind, DtoClass>> = {
  [MessageKind.Hello]: HelloBodyDto,
  [MessageKind.Welcome]: WelcomeBodyDto,
  [MessageKind.TrainTask]: TrainTaskBodyDto,
  [MessageKind.EvaluateTask]: EvaluateTaskBodyDto,
  [MessageKind.TrainResult]: TrainResultBodyDto,
  [MessageKind.EvaluateResult]: EvaluateResultBodyDto,
  [MessageKind.TaskDeclined]: TaskDeclinedBodyDto,
  [MessageKind.Rejected]: RejectedBodyDto,
  [MessageKind.Receipt]: ReceiptBodyDto,
  [MessageKind.SecAggUp]: SecAggUpBodyDto,
  [MessageKind.SecAggDown]: SecAggDownBodyDto,
  [MessageKind.StatisticsTask]: StatisticsTaskBodyDto,
  [MessageKind.StatisticsResult]: StatisticsResultBodyDto,
};

// Field names are echoed in errors; an attacker-chosen key is shown only if it looks like a name.
const SAFE_KEY_RE = /^[A-Za-z0-9_$-]{1,64}$/;
// class-transformer silently drops these keys instead of letting the whitelist refuse them.
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];
const MAX_DEPTH = 8;

function safeKey(key: string): string {
  return SAFE_KEY_RE.test(key) ? key : '(unprintable field name)';
}

function findForbiddenKey(value: unknown, path: string, depth: number): string | null {
  if (value === null || typeof value !== 'object') return null;
  if (depth > MAX_DEPTH) return `${path || '(root)'}: nested too deeply`;
  for (const key of Object.keys(value)) {
    const here = path ? `${path}.${safeKey(key)}` : safeKey(key);
    if (FORBIDDEN_KEYS.includes(key)) return `${here}: unknown field`;
    const nested = findForbiddenKey((value as Record<string, unknown>)[key], here, depth + 1);
    if (nested) return nested;
  }
  return null;
}

function flatten(errors: readonly ValidationError[], parent: string, out: string[]): void {
  for (const error of errors) {
    const path = parent ? `${parent}.${safeKey(error.property)}` : safeKey(error.property);
    const constraints = { ...(error.constraints ?? {}) };
    if (constraints['whitelistValidation']) {
      // The default whitelist message repeats the raw key; the sanitised path says enough.
      out.push(`${path}: unknown field`);
      continue;
    }
    // A missing field or a non-object would fail every other rule too; one reason is clearer.
    const decisive = constraints['isDefined'] ? ['isDefined'] : Object.keys(constraints).filter((name) => !(name === 'nestedValidation' && constraints['isObject']));
    const reasons = decisive.map((name) => {
      const message = constraints[name];
      return message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message;
    });
    if (reasons.length > 0) out.push(`${path}: ${reasons.join(', ')}`);
    if (error.children?.length) flatten(error.children, path, out);
  }
}

/**
 * Validates a plain (JSON-parsed) value against a class-validator DTO, refusing unknown fields.
 * @param cls the DTO class.
 * @param plain the value to check.
 * @param what names the object in the error, e.g. `train-result body`.
 * @returns `plain` itself, unchanged, once valid.
 * @throws ProtocolError INVALID_BODY listing every bad field.
 */
export function validateDto<T>(cls: DtoClass, plain: unknown, what: string): T {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new ProtocolError('INVALID_BODY', `${what} must be a JSON object`);
  }
  const forbidden = findForbiddenKey(plain, '', 0);
  if (forbidden) {
    throw new ProtocolError('INVALID_BODY', `invalid ${what}: ${forbidden}`);
  }
  const instance = plainToInstance(cls, plain);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const issues: string[] = [];
    flatten(errors, '', issues);
    throw new ProtocolError('INVALID_BODY', `invalid ${what}: ${issues.join('; ')}`);
  }
  return plain as T;
}

/**
 * Validates a message body against its kind's DTO (unknown fields refused).
 * @param kind the message kind.
 * @param plain the body, e.g. fresh from JSON.parse.
 * @returns the same value, now known to be a valid body of that kind.
 * @throws ProtocolError INVALID_BODY naming every bad field; UNEXPECTED_KIND for an unknown kind.
 */
export function validateBody<K extends MessageKind>(kind: K, plain: unknown): BodyForKind[K] {
  if (!isMessageKind(kind)) {
    throw new ProtocolError('UNEXPECTED_KIND', 'validateBody: unknown message kind');
  }
  return validateDto<BodyForKind[K]>(BODY_DTOS[kind], plain, `${kind} body`);
}

/**
 * Validates an envelope header.
 * @throws ProtocolError INVALID_BODY naming every bad field.
 */
export function validateHeader(plain: unknown): EnvelopeHeader {
  return validateDto<EnvelopeHeader>(EnvelopeHeaderDto, plain, 'envelope header');
}

/**
 * Validates a whole study specification (REST API, CLI).
 * @param plain the parsed request body or config file.
 * @returns the same value typed as a StudySpec.
 * @throws ProtocolError INVALID_BODY naming every bad field.
 */
export function validateStudySpec(plain: unknown): StudySpec {
  return validateDto<StudySpec>(StudySpecDto, plain, 'study spec');
}
