import { InMemoryStore } from './in-memory.store';
import { describeCoordinatorStoreContract } from './testing';

describeCoordinatorStoreContract('InMemoryStore', () => new InMemoryStore());
