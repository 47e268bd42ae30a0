import { registerModelFamily } from './federated-model';
import { logisticRegressionFamily, mlpFamily } from './tabular.family';
import { autoencoderFamily } from './autoencoder.model';
import { rnnFamily } from './rnn.model';
import { cnnFamily } from './cnn.model';
import { cganFamily } from './cgan.model';

/** Every model family this build ships, registered once on import of the models lib. */
for (const family of [logisticRegressionFamily, mlpFamily, autoencoderFamily, rnnFamily, cnnFamily, cganFamily]) registerModelFamily(family);
