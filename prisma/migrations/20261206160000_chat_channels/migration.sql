-- The chat channels (issue 16): Slack, Discord and Microsoft Teams. Their addresses live in "contacts",
-- so a value in the enum is all the database needs.
ALTER TYPE "Channel" ADD VALUE 'slack';
ALTER TYPE "Channel" ADD VALUE 'discord';
ALTER TYPE "Channel" ADD VALUE 'teams';
