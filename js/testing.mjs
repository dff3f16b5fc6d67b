// `import { assertNoLeak } from 'leakwatch/testing'`: the CommonJS module, one copy.
import { createRequire } from 'node:module';

const testing = createRequire(import.meta.url)('./testing.js');

export const { assertNoLeak, expectNoHandleLeak, trackListeners } = testing;
export default testing;
