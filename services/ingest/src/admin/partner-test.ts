import { randomUUID } from 'node:crypto';
import { validateLead, invalid } from '@leadrouter/core';
import type { Partner } from '@leadrouter/db';
import { amountNumber } from '@leadrouter/money';
import {
  buildRequest,
  classify,
  excerpt,
  readPartnerAnswer,
  send,
  type AcceptWhen,
  type DeliveryAgents,
  type ResponseMap,
} from '@leadrouter/delivery';

/** The lead a partner test sends unless the operator gives one: obviously a test, valid everywhere. */
const TEST_LEAD = {
  name: 'Test Lead',
  phone: '+1 202 555 0143',
  email: 'test-lead@example.com',
  geo: 'US',
  source: 'leadrouter-test',
  fields: { zip: '20001' },
};

const SECRET_HEADER = /authorization|api[-_]?key|token|secret|password/i;

/**
 * `POST /v1/admin/partners/:id/test`: sends one test lead to the partner,
 * exactly as a delivery would be sent (mapping, headers, signing, timeout),
 * plus `X-Leadrouter-Test: true`, and reports what happened. Nothing is
 * recorded: no lead, no delivery, no cap slot.
 */
export async function testPartner(partner: Partner, body: unknown, agents?: DeliveryAgents) {
  const given = body && typeof body === 'object' && 'lead' in body ? body.lead : TEST_LEAD;
  const v = validateLead(given);
  if (!v.ok) throw invalid(v.errors.map((e) => ({ ...e, field: `/lead${e.field ?? ''}` })));
  const leadId = `test-${randomUUID()}`;
  const request = buildRequest(
    {
      id: partner.id,
      url: partner.url,
      method: partner.method,
      headers: { ...(partner.headers as Record<string, string>), 'x-leadrouter-test': 'true' },
      fieldMap: partner.fieldMap as Record<string, string> | null,
      timeoutMs: partner.timeoutMs,
      secret: partner.secret,
    },
    { id: leadId, ...v.lead },
    leadId,
  );
  const result = await send(request, agents);
  const verdict = classify(result, partner.acceptWhen as AcceptWhen | null);
  const answer =
    result.kind === 'response' ? readPartnerAnswer(result.body, partner.responseMap as ResponseMap | null) : {};
  return {
    outcome: verdict.outcome,
    ...(verdict.outcome === 'accepted' ? {} : { reason: verdict.reason }),
    ...(verdict.outcome === 'retry' ? { note: 'a delivery would be retried with backoff' } : {}),
    httpStatus: result.kind === 'response' ? result.status : null,
    durationMs: result.durationMs,
    error: result.kind === 'error' ? `${result.code}: ${result.message}` : null,
    response: result.kind === 'response' ? excerpt(result.body) : null,
    answer: {
      ...(answer.price !== undefined ? { price: amountNumber(answer.price) } : {}),
      ...(answer.reason !== undefined ? { reason: answer.reason } : {}),
      ...(answer.reference !== undefined ? { reference: answer.reference } : {}),
    },
    request: {
      method: request.method,
      url: request.url,
      // The partner's credentials are the operator's own, but a test report gets pasted into tickets.
      headers: Object.fromEntries(
        Object.entries(request.headers).map(([k, val]) => [k, SECRET_HEADER.test(k) ? '[hidden]' : val]),
      ),
      body: JSON.parse(request.body) as unknown,
    },
  };
}
