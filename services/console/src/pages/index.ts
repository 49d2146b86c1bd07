import type { AnyComponent } from 'preact';
import { BASE } from './base';
import { DeadLetters } from './dead-letters';
import { LeadPage } from './lead';
import { Leads } from './leads';
import { Overview } from './overview';
import { NewPartner, PartnerPage, Partners } from './partners';
import { Reports } from './reports';
import { Returns } from './returns';
import { NewRoute, RoutePage, Routes } from './routes';
import { SourcePage, Sources } from './sources';

export { BASE };

/**
 * Every page of the console: its path (preact-iso patterns) and, for the
 * pages in the navigation, its label. Adding a page is a component in
 * pages/ and a line here.
 */
export interface PageEntry {
  path: string;
  nav?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  component: AnyComponent<any>;
}

export const PAGES: PageEntry[] = [
  { path: `${BASE}/`, nav: 'Overview', component: Overview },
  { path: `${BASE}/leads`, nav: 'Leads', component: Leads },
  { path: `${BASE}/leads/:id`, component: LeadPage },
  { path: `${BASE}/dead-letters`, nav: 'Dead letters', component: DeadLetters },
  { path: `${BASE}/returns`, nav: 'Returns', component: Returns },
  { path: `${BASE}/reports`, nav: 'Reports', component: Reports },
  { path: `${BASE}/partners`, nav: 'Partners', component: Partners },
  { path: `${BASE}/partners/new`, component: NewPartner },
  { path: `${BASE}/partners/:id`, component: PartnerPage },
  { path: `${BASE}/routes`, nav: 'Routes', component: Routes },
  { path: `${BASE}/routes/new`, component: NewRoute },
  { path: `${BASE}/routes/:id`, component: RoutePage },
  { path: `${BASE}/sources`, nav: 'Sources', component: Sources },
  { path: `${BASE}/sources/:id`, component: SourcePage },
];
