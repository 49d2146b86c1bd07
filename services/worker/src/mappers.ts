import type { Filters } from '@leadrouter/core';
import type { Lead, Partner, Route, RoutePartner } from '@leadrouter/db';
import type { PublicLead } from '@leadrouter/delivery';
import type { RoutingPartner, RoutingRoute } from '@leadrouter/routing';

export function toPublicLead(lead: Lead): PublicLead {
  return {
    id: lead.id,
    name: lead.name,
    phone: lead.phone,
    email: lead.email,
    geo: lead.geo,
    source: lead.subSource,
    fields: lead.fields as PublicLead['fields'],
  };
}

export function toRoutingPartner(p: Partner): RoutingPartner {
  return {
    id: p.id,
    name: p.name,
    active: p.active,
    paused: p.pausedAt !== null,
    filters: p.filters as Filters | null,
  };
}

export function toRoutingRoute(r: Route & { partners: RoutePartner[] }): RoutingRoute {
  return {
    id: r.id,
    name: r.name,
    priority: r.priority,
    active: r.active,
    filters: r.filters as Filters | null,
    strategy: r.strategy,
    maxDeliveries: r.maxDeliveries,
    partners: [...r.partners]
      .sort((a, b) => a.position - b.position)
      .map((p) => ({ partnerId: p.partnerId, weight: p.weight })),
  };
}
