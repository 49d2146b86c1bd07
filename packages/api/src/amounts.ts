/**
 * The money parts of the API's bodies and answers (docs/decisions/0023-money-model.md, 0026). An amount is
 * taken as a JSON number or a decimal string with at most 4 decimal places (what JSON Schema cannot say, the
 * handlers check with @leadrouter/money's parsers, beside the schema: one 422 lists every problem), and
 * answered as a JSON number whose text is the exact amount.
 */
import { Closed, Dict, Nullable, OneOf, PAYOUT_MODELS, Type, type TUnsafe } from '@leadrouter/core';

/** An amount given to us: a number or a decimal string (checked beside the schema: scale, sign, size). */
export function AmountInput(description: string): TUnsafe<number | string> {
  return Type.Unsafe<number | string>({
    type: ['number', 'string'],
    maxLength: 40,
    description: `${description}; in CURRENCY, at most 4 decimal places (a number, or a decimal string)`,
  });
}

/** An amount given to us, or null (none). */
export function NullableAmountInput(description: string): TUnsafe<number | string | null> {
  return Type.Unsafe<number | string | null>({ ...AmountInput(description), type: ['number', 'string', 'null'] });
}

/** An amount we answer: a JSON number, exactly the stored amount. */
export function AmountAnswer(description: string) {
  return Type.Number({ description: `${description}; in CURRENCY (exact: at most 4 decimal places)` });
}

/** The currency the amounts beside it are in: the installation's CURRENCY (amounts are never converted). */
export const CurrencyAnswer = (description = 'the ISO 4217 code of the amounts here: the installation’s `CURRENCY`') =>
  Type.String({ pattern: '^[A-Z]{3}$', description, example: 'USD' });

/** The shape of a source's `payout` (its amounts are checked beside it: `parsePayout`). */
export const PayoutInput = Nullable(
  Type.Object(
    {
      model: OneOf(PAYOUT_MODELS, {
        description: '`cpl`: per lead sold; `cpa`: per conversion; `revshare`: a share of what partners pay',
      }),
      amount: Type.Optional(AmountInput('what the source is paid per lead sold (cpl) or conversion (cpa)')),
      percent: Type.Optional(AmountInput('revshare: the percentage of each sale and conversion, 0 to 100')),
      geo: Type.Optional(
        Dict(AmountInput('the amount for leads of this geo'), {
          maxProperties: 250,
          propertyNames: { type: 'string', pattern: '^[A-Z]{2}$', maxLength: 2 },
          description: 'amounts by the lead’s geo (ISO 3166-1 alpha-2), over `amount` (cpl and cpa)',
        }),
      ),
    },
    {
      additionalProperties: false,
      description:
        'What the source is paid: `{"model":"cpl","amount":10}`, `{"model":"cpa","amount":40,"geo":{"US":45}}` or `{"model":"revshare","percent":70}`; null: nothing',
    },
  ),
);

/** A source's payout as answered. */
export const PayoutAnswer = Type.Unsafe<{
  model: (typeof PAYOUT_MODELS)[number];
  amount?: number;
  percent?: number;
  geo?: Record<string, number>;
} | null>({
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['model'],
  properties: {
    model: { enum: PAYOUT_MODELS },
    amount: { type: 'number' },
    percent: { type: 'number' },
    geo: { type: 'object', additionalProperties: { type: 'number' } },
  },
  description: 'what the source is paid (null: nothing)',
});

/** A partner's `statusMap`: its raw statuses to the events they stand for (case-insensitive; checked beside). */
export const StatusMapInput = Type.Unsafe<Record<string, 'converted' | 'returned' | 'reversed'> | null>({
  type: ['object', 'null'],
  maxProperties: 500,
  propertyNames: { type: 'string', minLength: 1, maxLength: 200 },
  additionalProperties: { enum: ['converted', 'returned', 'reversed'] },
  description:
    'the partner’s own statuses (compared case-insensitively) to the events they mean: `{"Deposit":"converted","Invalid number":"returned","Chargeback":"reversed"}`',
});

/** A partner's `returns` terms. */
export const ReturnsInput = Closed(
  {
    windowDays: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3650,
        description: 'days after the sale returns are taken; 0: none (default 30)',
      }),
    ),
    autoApprove: Type.Optional(
      Type.Boolean({
        description: 'approve its returns at once instead of queueing them for an operator (default false)',
      }),
    ),
  },
  { description: 'whether, and for how long, the partner may return leads it bought' },
);
