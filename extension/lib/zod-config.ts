import { z } from 'zod';

// Extension pages forbid eval (CSP). zod's faster parser probes `new Function`, which the
// browser reports as a CSP violation even though zod catches it; jitless skips the probe.
z.config({ jitless: true });
