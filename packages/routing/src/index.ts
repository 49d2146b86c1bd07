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
export { describeLocalTime, isWithinSchedule } from './schedule.js';
export {
  CAP_LIMITS,
  capPeriods,
  cappedPeriods,
  capReserve,
  capsInUse,
  checkCaps,
  hasCaps,
  LIMIT_PERIOD,
  NO_CAPS,
  UNUSED,
  type CapCheck,
  type CapLimit,
  type CapPeriods,
  type Caps,
  type CapsInUse,
  type CapUsage,
  type LimitUse,
  type PeriodUsage,
} from './caps.js';
export {
  REPLAY_LIMITS,
  replayedRouteOf,
  replayRoute,
  seededRandom,
  type Replay,
  type ReplayPartner,
  type ReplayRules,
} from './replay.js';
