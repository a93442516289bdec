import { DOWNLOAD_ROUTES } from './download-routes';
import { MEDIA_ROUTES } from './media-routes';
import { routeLookup, type ApiRoute, type RouteLookup } from './routes';
import { UPLOAD_ROUTES } from './upload-routes';

/**
 * Every route of the HTTP API, one function's table after another: what the local HTTP server, the
 * CDK HTTP API and the OpenAPI document serve. The Lambda handlers route by their own table alone.
 */
export const API_ROUTES = [...UPLOAD_ROUTES, ...DOWNLOAD_ROUTES, ...MEDIA_ROUTES] as const;

let everyRoute: RouteLookup | undefined;
const lookup = () => {
  everyRoute ??= routeLookup(API_ROUTES);
  return everyRoute;
};

/** The route an API Gateway route key (`GET /v1/media/{id}`) names, among all of them. */
export const routeByKey = (routeKey: string): ApiRoute | undefined => lookup().byKey(routeKey);

/** The route a raw method and path name, among all of them, with its decoded path parameters. */
export const matchRoute = (method: string, path: string) => lookup().match(method, path);

/** The methods routes serve on this path: where a request's method is not among them, 405, not 404. */
export const methodsAt = (path: string): string[] => lookup().methodsAt(path);
