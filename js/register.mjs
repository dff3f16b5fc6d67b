// `node --import leakwatch/register app.mjs`: the same as the CommonJS register, one copy.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./register.js');
