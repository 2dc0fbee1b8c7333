import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

/**
 * The one HTTP client of the app, typed from the backend's committed OpenAPI document
 * (`backend/openapi.json` → `schema.d.ts`, generated at build time; never hand-written).
 */
export const api = createClient<paths>({ baseUrl: '/' });

export type Schemas = components['schemas'];
