// The API documentation routes: the OpenAPI document, Swagger UI, ReDoc and the files they load.
// Everything they answer was built at startup (gateway/docs-site.ts); a handler only picks it.
// They are served but left out of the OpenAPI document, which describes the API, not its docs.
// `guard: 'docs'`: with AUTH_ENABLED and AUTH_PROTECT_DOCS they need a valid token (any scope).
import { AuroraError } from '../../runtime/errors.js';
import { ASSET_PREFIX, ASSET_VERSION_PARAM, OPENAPI_PATH, REDOC_PATH, SWAGGER_PATH } from '../docs-paths.js';
import type { DocsSite, StaticResponse } from '../docs-site.js';
import type { HandlerRequest, HandlerResponse } from '../http.js';
import { route, type Route } from '../router.js';
import { pathParam } from './params.js';

const ok = (r: StaticResponse): HandlerResponse => ({ status: 200, body: r.body, headers: r.headers });

/**
 * The docs routes serving `site`. Without one (DOCS_ENABLED=false) the paths are still routed,
 * so they answer a 404 that says why rather than the router's bare one.
 */
export function docsRoutes(site: DocsSite | undefined): readonly Route[] {
  const siteOf = (): DocsSite => {
    if (site === undefined) throw new AuroraError('not_found', 'API documentation is turned off (DOCS_ENABLED=false)');
    return site;
  };
  const openApi = async (): Promise<HandlerResponse> => ok(siteOf().openApi);
  const swagger = async (): Promise<HandlerResponse> => ok(siteOf().swaggerPage);
  const redoc = async (): Promise<HandlerResponse> => ok(siteOf().redocPage);
  const asset = async (req: HandlerRequest): Promise<HandlerResponse> => {
    const found = siteOf().asset(pathParam(req, 'file'), req.query[ASSET_VERSION_PARAM]);
    if (!found) throw new AuroraError('not_found', 'No such documentation asset');
    return ok(found);
  };
  return [
    route({ method: 'GET', path: OPENAPI_PATH, guard: 'docs', handler: openApi, responses: { 200: 'Text' }, summary: 'OpenAPI document' }),
    route({ method: 'GET', path: SWAGGER_PATH, guard: 'docs', handler: swagger, responses: { 200: 'Text' }, summary: 'Swagger UI' }),
    route({ method: 'GET', path: REDOC_PATH, guard: 'docs', handler: redoc, responses: { 200: 'Text' }, summary: 'ReDoc' }),
    route({
      method: 'GET',
      path: `${ASSET_PREFIX}:file`,
      guard: 'docs',
      handler: asset,
      responses: { 200: 'Text' },
      summary: 'Scripts, styles and icons of the documentation pages',
    }),
  ];
}
