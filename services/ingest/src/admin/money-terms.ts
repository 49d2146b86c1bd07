import { PayoutInput } from '@leadrouter/api';
import { compile, toFieldErrors, type FieldError } from '@leadrouter/core';
import { Prisma, type Source } from '@leadrouter/db';
import {
  amount,
  amountNumber,
  parseAmount,
  parsePayout,
  parseStatusMap,
  payoutFromColumns,
  payoutToColumns,
} from '@leadrouter/money';

// The money terms of sources and partners as the admin API takes and shows them (ADR 0026): what JSON Schema
// cannot say about them (scale, sign and size of amounts; a payout's fields by model; statuses equal but for
// case) is checked here, beside the schema, and only where the schema accepted the shape, so one problem is
// not reported twice.

const payoutShape = compile(PayoutInput);

/** Amounts among `fields` of the body that are numbers or strings, checked as amounts (`parseAmount`). */
function amountProblems(body: Record<string, unknown>, fields: readonly string[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of fields) {
    const value = body[field];
    if (typeof value !== 'number' && typeof value !== 'string') continue;
    const parsed = parseAmount(value);
    if (!parsed.ok) errors.push({ field: `/${field}`, message: parsed.message });
  }
  return errors;
}

const asObject = (body: unknown): Record<string, unknown> | null =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;

/** A source's `payout`, beyond its schema (a field the schema finds wrong is left to its message). */
export function sourceMoneyProblems(body: unknown): FieldError[] {
  const input = asObject(body);
  if (!input || input.payout === undefined || input.payout === null) return [];
  const parsed = parsePayout(input.payout);
  if (parsed.ok) return [];
  const schemaSays = new Set(
    payoutShape(input.payout)
      ? []
      : toFieldErrors(payoutShape.errors).map((e) => `/payout${e.field === '/' ? '' : e.field}`),
  );
  return parsed.errors.filter((e) => !schemaSays.has(e.field ?? ''));
}

/** The source columns of a body's `payout` and `clawback` (only those it names). */
export function sourceMoneyData(input: {
  payout?: unknown;
  clawback?: boolean;
}): Pick<Prisma.SourceCreateInput, 'payoutModel' | 'payoutAmount' | 'payoutPercent' | 'payoutGeo' | 'clawback'> {
  const data: ReturnType<typeof sourceMoneyData> = {};
  if (input.payout !== undefined) {
    const parsed = parsePayout(input.payout);
    if (!parsed.ok) throw new Error('sourceMoneyData: the payout was not checked');
    const columns = payoutToColumns(parsed.payout);
    data.payoutModel = columns.payoutModel;
    data.payoutAmount = columns.payoutAmount;
    data.payoutPercent = columns.payoutPercent;
    data.payoutGeo = columns.payoutGeo ?? Prisma.DbNull;
  }
  if (input.clawback !== undefined) data.clawback = input.clawback;
  return data;
}

/** A source's payout as the admin API shows it (amounts as exact JSON numbers), or null. */
export function payoutAnswer(s: Source) {
  const payout = payoutFromColumns({
    payoutModel: s.payoutModel,
    payoutAmount: s.payoutAmount?.toString() ?? null,
    payoutPercent: s.payoutPercent?.toString() ?? null,
    payoutGeo: (s.payoutGeo as Record<string, string> | null) ?? null,
  });
  if (!payout) return null;
  if (payout.model === 'revshare') return { model: payout.model, percent: amountNumber(payout.percent) };
  return {
    model: payout.model,
    amount: amountNumber(payout.amount),
    ...(payout.geo.size > 0 ? { geo: Object.fromEntries([...payout.geo].map(([g, a]) => [g, amountNumber(a)])) } : {}),
  };
}

/** A partner's `price`, `conversionPrice`, budgets (`caps.dailyBudget`, `caps.monthlyBudget`) and `statusMap`, beyond their schemas. */
export function partnerMoneyProblems(body: unknown): FieldError[] {
  const input = asObject(body);
  if (!input) return [];
  const errors = amountProblems(input, ['price', 'conversionPrice']);
  const caps = asObject(input.caps);
  if (caps)
    errors.push(
      ...amountProblems(caps, ['dailyBudget', 'monthlyBudget']).map((e) => ({ ...e, field: `/caps${e.field}` })),
    );
  const map = input.statusMap;
  if (map !== null && typeof map === 'object' && !Array.isArray(map)) {
    const parsed = parseStatusMap(map);
    // The schema says which values are events; what is left is statuses equal but for case.
    if (!parsed.ok) errors.push(...parsed.errors.filter((e) => e.message.includes('the same status')));
  }
  return errors;
}

/** An amount column from a body's amount (checked): exact decimal text, or null. */
export function amountColumn(value: number | string | null): string | null {
  if (value === null) return null;
  const parsed = parseAmount(value);
  if (!parsed.ok) throw new Error('amountColumn: the amount was not checked');
  return parsed.amount.toString();
}

/** A stored amount (Prisma's Decimal) as an exact JSON number, or null. */
export function amountAnswer(value: { toString(): string } | null): number | null {
  return value === null ? null : amountNumber(amount(value.toString()));
}
