import { FakePartner, type PartnerReply, type ReceivedRequest } from './partner';

/** One lead as the partner's CRM has it. */
export interface CrmLead {
  status: string;
  amount?: number | string;
  updatedAt?: string;
}

/**
 * A partner's CRM on loopback (a FakePartner): it answers status pulls —
 * `GET …?from=…&to=…&page=n&per_page=k` — with `{"data": [{"lead_id", "status", "payout", "updated_at"}],
 * "page": n}`, the leads in the order they were added, paged. The test changes statuses over time (`set`),
 * holds answers (`hold`), makes answers slow (`delayMs`) or replaces them (`override`). It counts the requests
 * in flight at once (`maxInFlight`), which a status pull must keep to one.
 */
export class FakeCrm {
  readonly leads = new Map<string, CrmLead>();
  readonly partner: FakePartner;
  /** How long each answer takes. */
  delayMs = 0;
  /** Requests in flight now, and the most seen at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** An answer instead of the data (a hostile CRM), or undefined. */
  override?: (req: ReceivedRequest) => PartnerReply | undefined;
  private held?: Promise<void>;

  constructor() {
    this.partner = new FakePartner((req) => this.answer(req));
  }

  async start(): Promise<this> {
    await this.partner.start();
    return this;
  }

  stop(): Promise<void> {
    return this.partner.stop();
  }

  /** The pull URL, with the look-back window's placeholders. */
  get url(): string {
    return this.partner.url.replace(/\/leads$/, '/statuses?from={{from}}&to={{to}}');
  }

  get requests(): ReceivedRequest[] {
    return this.partner.requests;
  }

  set(reference: string, lead: CrmLead | string): void {
    this.leads.set(reference, typeof lead === 'string' ? { status: lead } : lead);
  }

  /** Answers wait until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.held = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.held = undefined;
      release();
    };
  }

  private async answer(req: ReceivedRequest): Promise<PartnerReply> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.held) await this.held;
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      const custom = this.override?.(req);
      if (custom) return custom;
      const query = new URL(req.path, 'http://crm').searchParams;
      const page = Number(query.get('page') ?? 1);
      const size = Number(query.get('per_page') ?? 1000);
      const data = [...this.leads].slice((page - 1) * size, page * size).map(([reference, lead]) => ({
        lead_id: reference,
        status: lead.status,
        ...(lead.amount !== undefined ? { payout: lead.amount } : {}),
        ...(lead.updatedAt !== undefined ? { updated_at: lead.updatedAt } : {}),
      }));
      return { status: 200, body: { data, page } };
    } finally {
      this.inFlight--;
    }
  }
}
