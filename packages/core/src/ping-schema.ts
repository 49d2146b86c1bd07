/**
 * A partner's `ping` as the admin API takes it (README "Ping/post", ADR 0032); what it means, and what JSON Schema
 * cannot say about it, is ping.ts's.
 */
import { AcceptWhenSchema, FieldMapSchema, PartnerHeadersSchema } from './rules.js';
import { Closed, OneOf, Type, type Static } from './schema.js';

const jsonPath = (description: string) =>
  Type.String({ minLength: 1, maxLength: 200, pattern: '^[^.]+(\\.[^.]+)*$', description });

export const PingSchema = Closed(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://', description: 'where pings go' }),
    method: Type.Optional(OneOf(['POST', 'PUT', 'PATCH'], { description: 'default `POST`' })),
    headers: Type.Optional(PartnerHeadersSchema),
    fieldMap: Type.Optional(
      Type.Unsafe<Record<string, string>>({
        ...FieldMapSchema,
        description:
          'the ping’s body: partner field → lead path, as a delivery’s `fieldMap`, but never `name`, `phone` or `email` (422); no map: the lead’s `id`, `geo`, `source` and `fields`',
      }),
    ),
    timeoutMs: Type.Optional(
      Type.Integer({
        minimum: 50,
        maximum: 30000,
        description: 'how long a ping may take (default 500); the auction’s deadline holds whatever this says',
      }),
    ),
    bidPath: Type.Optional(jsonPath('where the bid is in the JSON answer (default `bid`); no number there: no bid')),
    acceptWhen: Type.Optional(AcceptWhenSchema),
    referencePath: Type.Optional(
      jsonPath(
        'where the partner’s reference for this ping is in its answer: sent back with the post as `X-Ping-Reference` and the field-map path `ping.reference`',
      ),
    ),
  },
  {
    description:
      'Ask the partner for a bid before the lead is posted to it, without contact data. Requests go out under the rules of deliveries (no private destinations).',
  },
);
export type Ping = Static<typeof PingSchema>;
