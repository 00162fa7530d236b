// The dashboard's routes: its page and its hashed assets. Open even under AUTH_ENABLED: they hold
// no data (the page asks for a token and sends it with every API call and on the stream). Left out
// of the OpenAPI document, like the docs.
import { AuroraError } from '../../runtime/errors.js';
import type { StaticResponse } from '../docs-site.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';
import { UI_ASSET_PREFIX, UI_PATH } from '../ui-paths.js';
import type { UiSite } from '../ui-site.js';
import { pathParam } from './params.js';

const ok = (r: StaticResponse): HandlerResponse => ({ status: 200, body: r.body, headers: r.headers });

/** Without a built dashboard the paths answer a 404 that says how to build it. */
export function uiRoutes(site: UiSite | undefined): readonly Route[] {
  const siteOf = (): UiSite => {
    if (site === undefined) throw new AuroraError('not_found', 'The dashboard is not built: run `npm run build`');
    return site;
  };
  const page = async (): Promise<HandlerResponse> => ok(siteOf().index);
  const asset = async (req: HandlerRequest): Promise<HandlerResponse> => {
    const found = siteOf().asset(pathParam(req, 'file'));
    if (!found) throw new AuroraError('not_found', 'No such dashboard asset');
    return ok(found);
  };
  return [
    route({ method: 'GET', path: UI_PATH, handler: page, responses: { 200: 'Text' }, summary: 'The dashboard' }),
    route({ method: 'GET', path: `${UI_ASSET_PREFIX}:file`, handler: asset, responses: { 200: 'Text' }, summary: "The dashboard's scripts and styles" }),
  ];
}
