// zod's mini API loads no locale: without one, every message would read "Invalid input". This
// module sets English, the only locale (all of them are 370 KB), for whoever parses with a schema
// of ours. It is imported for that effect alone, and named in package.json's `sideEffects` so that
// bundles keep it even where none of the importer's exports is used (the migrate function parses
// one setting, with no contract schema at all).
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
