ALTER TABLE `models` ADD `cache_shared` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `models` ADD `cache_shared_timeout_ms` integer DEFAULT 25 NOT NULL;