export {
  backoffDelay,
  buildRequest,
  classify,
  createAgents,
  destroyAgents,
  excerpt,
  readPartnerAnswer,
  signatureHeaders,
  type AcceptWhen,
  type AttemptResult,
  type Classification,
  type DeliveryAgents,
  type PartnerAnswer,
  type PublicLead,
  type ResponseMap,
} from './requests.js';
export { send, type OutgoingRequest } from './send.js';
