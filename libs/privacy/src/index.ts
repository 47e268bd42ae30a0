export { PrivacyConfigError, BudgetExceededError, LedgerCorruptError } from './privacy.errors';
export type { DpSettings } from './rdp.accountant';
export { STANDARD_ORDERS, computeRdp, rdpToEpsilon, validateDpSettings, PrivacyAccountant, noiseForEpsilon } from './rdp.accountant';
export type { GaussianSource, UniformSource } from './gaussian.source';
export { boxMullerGaussianSource, cryptoUniformSource, cryptoGaussianSource } from './gaussian.source';
export { clipUpdate, noiseStddev, addGaussianNoise } from './dp-fed-avg.util';
export type { PrivacyBudgetLimits } from './privacy-budget.ledger';
export { PrivacyBudgetLedger } from './privacy-budget.ledger';
