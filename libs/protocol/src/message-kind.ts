import { EventName, Events } from './events';

/** The wire protocol version this build speaks; frames carrying another `v` are refused. */
export const PROTOCOL_VERSION = 1;

/** Every message kind; the value is what travels in the envelope header's `kind` field. */
export const MessageKind = {
  Hello: 'hello',
  Welcome: 'welcome',
  TrainTask: 'train-task',
  EvaluateTask: 'evaluate-task',
  TrainResult: 'train-result',
  EvaluateResult: 'evaluate-result',
  TaskDeclined: 'task-declined',
  Rejected: 'rejected',
  Receipt: 'receipt',
  SecAggUp: 'secagg-up',
  SecAggDown: 'secagg-down',
  StatisticsTask: 'statistics-task',
  StatisticsResult: 'statistics-result',
} as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** All kinds, in declaration order. */
export const MESSAGE_KINDS: readonly MessageKind[] = Object.values(MessageKind);

/**
 * Kinds that carry model weights or per-site statistics and therefore must be sealed to the
 * recipient; every other kind must be sent unsealed (it is signed only).
 */
export const SEALED_KINDS: ReadonlySet<MessageKind> = new Set<MessageKind>([
  MessageKind.TrainTask,
  MessageKind.EvaluateTask,
  MessageKind.TrainResult,
  MessageKind.EvaluateResult,
  MessageKind.SecAggUp,
  MessageKind.SecAggDown,
  MessageKind.StatisticsTask,
  MessageKind.StatisticsResult,
]);

/**
 * Whether frames of this kind must be sealed.
 * @param kind a message kind.
 */
export function mustBeSealed(kind: MessageKind): boolean {
  return SEALED_KINDS.has(kind);
}

const EVENT_BY_KIND: Readonly<Record<MessageKind, EventName>> = {
  [MessageKind.Hello]: Events.Hello,
  [MessageKind.Welcome]: Events.Welcome,
  [MessageKind.TrainTask]: Events.TrainTask,
  [MessageKind.EvaluateTask]: Events.EvaluateTask,
  [MessageKind.TrainResult]: Events.TrainResult,
  [MessageKind.EvaluateResult]: Events.EvaluateResult,
  [MessageKind.TaskDeclined]: Events.TaskDeclined,
  [MessageKind.Rejected]: Events.Rejected,
  [MessageKind.Receipt]: Events.Receipt,
  [MessageKind.SecAggUp]: Events.SecAggUp,
  [MessageKind.SecAggDown]: Events.SecAggDown,
  [MessageKind.StatisticsTask]: Events.StatisticsTask,
  [MessageKind.StatisticsResult]: Events.StatisticsResult,
};

const KIND_BY_EVENT: ReadonlyMap<string, MessageKind> = new Map(
  MESSAGE_KINDS.map((kind) => [EVENT_BY_KIND[kind], kind] as const),
);

/**
 * Whether a value is one of the known message kinds.
 * @param value any value, e.g. a parsed header field.
 */
export function isMessageKind(value: unknown): value is MessageKind {
  return typeof value === 'string' && (MESSAGE_KINDS as readonly string[]).includes(value);
}

/**
 * The Socket.IO event a message kind travels on.
 * @param kind a message kind.
 * @throws RangeError if `kind` is not a known kind.
 */
export function eventForKind(kind: MessageKind): EventName {
  if (!isMessageKind(kind)) {
    throw new RangeError(`eventForKind: unknown message kind ${JSON.stringify(String(kind).slice(0, 40))}`);
  }
  return EVENT_BY_KIND[kind];
}

/**
 * The message kind carried on a Socket.IO event, or null when the event is not a protocol event.
 * @param event an event name as received.
 */
export function kindForEvent(event: string): MessageKind | null {
  return KIND_BY_EVENT.get(event) ?? null;
}
