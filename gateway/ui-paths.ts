// Where the dashboard is served. Apart from the site itself so that the root route can name it
// without loading the files.
export const UI_PATH = '/ui/';
export const UI_ASSET_PREFIX = '/ui/assets/';
