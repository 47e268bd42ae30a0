import { Events } from './events';
import { MESSAGE_KINDS, MessageKind, SEALED_KINDS, eventForKind, kindForEvent, mustBeSealed } from './message-kind';

describe('message kinds and events', () => {
  it.each<[MessageKind, string]>([
    [MessageKind.Hello, 'medfed/hello'],
    [MessageKind.Welcome, 'medfed/welcome'],
    [MessageKind.TrainTask, 'medfed/train-task'],
    [MessageKind.EvaluateTask, 'medfed/evaluate-task'],
    [MessageKind.TrainResult, 'medfed/train-result'],
    [MessageKind.EvaluateResult, 'medfed/evaluate-result'],
    [MessageKind.TaskDeclined, 'medfed/task-declined'],
    [MessageKind.Rejected, 'medfed/rejected'],
    [MessageKind.Receipt, 'medfed/receipt'],
  ])('%s travels on %s and back', (kind, event) => {
    expect(eventForKind(kind)).toBe(event);
    expect(kindForEvent(event)).toBe(kind);
  });

  it('maps every kind to a distinct event of Events', () => {
    const events = MESSAGE_KINDS.map(eventForKind);

    expect(new Set(events).size).toBe(MESSAGE_KINDS.length);
    for (const event of events) expect(Object.values(Events)).toContain(event);
  });

  it('has no kind for the unsigned connection-error event', () => {
    expect(kindForEvent(Events.ConnectionError)).toBeNull();
  });

  it.each(['hello', 'medfed/unknown', '', 'constructor', '__proto__'])('kindForEvent(%p) is null', (event) => {
    expect(kindForEvent(event)).toBeNull();
  });

  it('refuses an unknown kind in eventForKind', () => {
    expect(() => eventForKind('gossip' as MessageKind)).toThrow(RangeError);
  });

  it('seals exactly the tasks, results, statistics and secure-aggregation steps', () => {
    expect([...SEALED_KINDS].sort()).toEqual(['evaluate-result', 'evaluate-task', 'secagg-down', 'secagg-up', 'statistics-result', 'statistics-task', 'train-result', 'train-task']);
    expect(mustBeSealed(MessageKind.Hello)).toBe(false);
    expect(mustBeSealed(MessageKind.TrainResult)).toBe(true);
  });
});
