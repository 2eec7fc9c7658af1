-- AlterEnum
ALTER TYPE "NotificationStatus" ADD VALUE 'deferred' AFTER 'scheduled';

-- AlterTable
ALTER TABLE "notifications" ALTER COLUMN "title" DROP NOT NULL,
ALTER COLUMN "body" DROP NOT NULL,
ADD COLUMN     "template" TEXT,
ADD COLUMN     "fallback" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "templates" (
    "key" TEXT NOT NULL,
    "locale" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "templates_pkey" PRIMARY KEY ("key","locale")
);
