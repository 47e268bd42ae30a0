import 'reflect-metadata';
import {
  IsDefined,
  IsInt,
  IsNumber,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidationArguments,
  ValidationOptions,
  registerDecorator,
} from 'class-validator';

/**
 * Small, composable class-validator decorators shared by every wire DTO. They never put the
 * offending value into an error message: messages name the field and the rule only.
 */

/** Applies several property decorators as one. */
export function compose(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => {
    for (const decorate of decorators) decorate(target, key);
  };
}

/** The field must be present and not null. */
export function Required(): PropertyDecorator {
  return IsDefined();
}

/**
 * The field may be absent (undefined); when present it is validated like any other. Unlike
 * class-validator's IsOptional, an explicit JSON `null` is NOT accepted.
 */
export function OptionalField(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}

/** Largest epoch-millisecond value a JavaScript Date can represent (ECMA-262 §21.4.1.1). */
export const MAX_EPOCH_MS = 8_640_000_000_000_000;

/** A finite JSON number (rejects NaN and ±Infinity, which `1e999` parses to). */
export function IsFiniteNumber(): PropertyDecorator {
  return IsNumber({ allowNaN: false, allowInfinity: false });
}

/** An integer in [min, max] (inclusive). */
export function IsIntInRange(min: number, max: number = Number.MAX_SAFE_INTEGER): PropertyDecorator {
  return compose(IsInt(), Min(min), Max(max));
}

/** A non-negative integer of epoch milliseconds. */
export function IsEpochMs(): PropertyDecorator {
  return IsIntInRange(0, MAX_EPOCH_MS);
}

/** A study id: 1-64 characters of [A-Za-z0-9_-]. */
export function IsStudyId(): PropertyDecorator {
  return compose(IsString(), Length(1, 64), Matches(/^[A-Za-z0-9_-]+$/, { message: '$property must match [A-Za-z0-9_-]+' }));
}

/** A node id assigned by the coordinator: 1-128 characters of [A-Za-z0-9._:+/=-]. */
export function IsNodeId(): PropertyDecorator {
  return compose(IsString(), Length(1, 128), Matches(/^[A-Za-z0-9._:+/=-]+$/, { message: '$property must match [A-Za-z0-9._:+/=-]+' }));
}

/** A short, printable identifier such as a backend or software version: 1-`max` chars, no control characters. */
export function IsShortLabel(max: number): PropertyDecorator {
  return compose(IsString(), Length(1, max), Matches(/^[\x20-\x7e]+$/, { message: '$property must be printable ASCII' }));
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Whether `text` is canonical padded base64 (RFC 4648 §4) of exactly `bytes` bytes.
 * @param text candidate string.
 * @param bytes required decoded length.
 */
export function isBase64OfLength(text: unknown, bytes: number): text is string {
  if (typeof text !== 'string' || text.length !== 4 * Math.ceil(bytes / 3) || !BASE64_RE.test(text)) return false;
  // Re-encoding rejects non-canonical trailing bits, so each key has exactly one spelling.
  const decoded = Buffer.from(text, 'base64');
  return decoded.length === bytes && decoded.toString('base64') === text;
}

/** Canonical padded base64 of exactly `bytes` bytes (RFC 4648 §4). */
export function IsBase64Bytes(bytes: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isBase64Bytes',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [bytes],
      options: { message: `$property must be base64 of exactly ${bytes} bytes`, ...options },
      validator: { validate: (value: unknown) => isBase64OfLength(value, bytes) },
    });
}

/** A number strictly below `limit` (class-validator's Max is inclusive). */
export function IsBelow(limit: number): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isBelow',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [limit],
      options: { message: `$property must be less than ${limit}` },
      validator: { validate: (value: unknown) => typeof value === 'number' && value < limit },
    });
}

/** A number strictly above `limit` (class-validator's Min is inclusive). */
export function IsAbove(limit: number): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isAbove',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [limit],
      options: { message: `$property must be greater than ${limit}` },
      validator: { validate: (value: unknown) => typeof value === 'number' && value > limit },
    });
}

/**
 * A rule over the whole object, attached to one property so the error names that property.
 * @param name the rule's name (the constraint key in class-validator errors).
 * @param message the error text; `$property` is replaced by the field name.
 * @param check receives the field's value and the whole object.
 */
export function ObjectRule(name: string, message: string, check: (value: unknown, object: Record<string, unknown>) => boolean): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message },
      validator: {
        validate: (value: unknown, args: ValidationArguments) => check(value, args.object as Record<string, unknown>),
      },
    });
}

/**
 * For EvaluateResult metric fields: validate when the node claims unsuppressed results (so the field
 * is required) or when the field is present at all (so it can be refused as not allowed).
 */
export function ValidateWhenMetricsExpected(): PropertyDecorator {
  return ValidateIf((object: object, value: unknown) => (object as { suppressed?: unknown }).suppressed !== true || value !== undefined);
}
