import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

// `prisma generate` never connects, but with DATABASE_URL unset prisma 6.19 falls back to
// downloading a query engine; a placeholder keeps it on the JS engine.
process.env.DATABASE_URL ??= 'postgresql://localhost:5432/herald';

// The JS engine with a driver adapter: no engine binary is needed for generate or migrate.
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  async adapter() {
    // A short idle timeout lets the CLI exit as soon as it is done (pg's default keeps it 10 s).
    return new PrismaPg({
      connectionString: process.env.DATABASE_URL,
      idleTimeoutMillis: 50,
      allowExitOnIdle: true,
    });
  },
});
