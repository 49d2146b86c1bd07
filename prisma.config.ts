import { defineConfig } from 'prisma/config';

// Prisma 7 keeps the connection URL out of schema.prisma. The CLI's own
// migrate commands need an engine binary these machines cannot download;
// `npm run db:migrate` applies migrations without it (docs/decisions/0002-migrations.md).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/leadrouter',
  },
});
