export {
  ZERO,
  amount,
  amountNumber,
  formatAmount,
  parseAmount,
  readAnswerAmount,
  sumAmounts,
  type Amount,
} from './amount.js';
export {
  conversionRevenue,
  parsePayout,
  payoutFromColumns,
  payoutToColumns,
  salePrice,
  sourcePayout,
  type Payout,
} from './payout.js';
export { leadMoney, ledgerLines, sourceEarnings, type LeadMoney, type LedgerLine, type MoneyEvent } from './ledger.js';
export {
  normaliseStatus,
  parseStatusMap,
  parseStatusPullItem,
  statusChange,
  statusPullItems,
  type StatusMap,
  type StatusPullItem,
  type StatusPullItemParse,
} from './status.js';
