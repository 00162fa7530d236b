// Where the API documentation is served. Kept apart from the docs site itself so that the route
// table, the pages' start-up scripts and the OpenAPI generator can all name these paths without
// importing one another.
export const OPENAPI_PATH = '/openapi.json';
export const SWAGGER_PATH = '/docs';
export const REDOC_PATH = '/redoc';
export const ASSET_PREFIX = '/docs/assets/';
/** Query parameter carrying an asset's content hash, so a changed file gets a new URL. */
export const ASSET_VERSION_PARAM = 'v';
