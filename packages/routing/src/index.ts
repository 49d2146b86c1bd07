export { matchFilters, type FilterResult, type RoutingLead } from './filters.js';
export {
  decideRoute,
  selectRoute,
  type CandidateSkipReason,
  type DecideInput,
  type RouteDecision,
  type RoutingPartner,
  type RoutingRoute,
  type SelectedRoute,
  type Skipped,
} from './decide.js';
export {
  capPeriods,
  checkCaps,
  describeLocalTime,
  isWithinSchedule,
  type CapCheck,
  type CapPeriods,
  type Caps,
} from './schedule.js';
export {
  REPLAY_LIMITS,
  replayedRouteOf,
  replayRoute,
  seededRandom,
  type Replay,
  type ReplayPartner,
  type ReplayRules,
} from './replay.js';
