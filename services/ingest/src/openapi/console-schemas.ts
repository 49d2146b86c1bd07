import { closed, type JsonSchema } from './schemas.js';

/** Schemas of the console's session (ADR 0018). */
const dateTime = { type: 'string', format: 'date-time' } as const;

export function consoleSchemas(): Record<string, JsonSchema> {
  return {
    SignIn: closed({ token: { type: 'string', minLength: 1, maxLength: 1000, description: 'the admin token' } }),
    Session: closed({
      csrfToken: {
        type: 'string',
        description: 'send it as `X-CSRF-Token` with every request that changes something and carries the cookie',
      },
      expiresAt: { ...dateTime, description: 'when the session ends (12 h after sign-in)' },
    }),
  };
}
