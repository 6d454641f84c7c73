CREATE TABLE `model_alias_routes` (
	`model_id` text NOT NULL,
	`alias` text NOT NULL,
	`kind` text NOT NULL,
	`position` integer NOT NULL,
	`version_id` text NOT NULL,
	`share` real NOT NULL,
	PRIMARY KEY(`model_id`, `alias`, `kind`, `position`),
	FOREIGN KEY (`model_id`) REFERENCES `models`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`version_id`) REFERENCES `model_versions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `model_alias_routes_version` ON `model_alias_routes` (`version_id`);--> statement-breakpoint
CREATE TABLE `route_rollups` (
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
	`alias` text NOT NULL,
	`route` integer NOT NULL,
	`version` integer NOT NULL,
	`minute` integer NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`rows` integer DEFAULT 0 NOT NULL,
	`client_errors` integer DEFAULT 0 NOT NULL,
	`server_errors` integer DEFAULT 0 NOT NULL,
	`cache_hits` integer DEFAULT 0 NOT NULL,
	`cache_misses` integer DEFAULT 0 NOT NULL,
	`cache_bypasses` integer DEFAULT 0 NOT NULL,
	`latency_ms_sum` real DEFAULT 0 NOT NULL,
	`latency_b0` integer DEFAULT 0 NOT NULL,
	`latency_b1` integer DEFAULT 0 NOT NULL,
	`latency_b2` integer DEFAULT 0 NOT NULL,
	`latency_b3` integer DEFAULT 0 NOT NULL,
	`latency_b4` integer DEFAULT 0 NOT NULL,
	`latency_b5` integer DEFAULT 0 NOT NULL,
	`latency_b6` integer DEFAULT 0 NOT NULL,
	`latency_b7` integer DEFAULT 0 NOT NULL,
	`latency_b8` integer DEFAULT 0 NOT NULL,
	`latency_b9` integer DEFAULT 0 NOT NULL,
	`latency_b10` integer DEFAULT 0 NOT NULL,
	`latency_b11` integer DEFAULT 0 NOT NULL,
	`latency_b12` integer DEFAULT 0 NOT NULL,
	`latency_b13` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workspace_id`, `model`, `alias`, `route`, `version`, `minute`)
);
--> statement-breakpoint
CREATE INDEX `route_rollups_minute` ON `route_rollups` (`minute`);--> statement-breakpoint
CREATE TABLE `route_totals` (
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
	`alias` text NOT NULL,
	`route` integer NOT NULL,
	`version` integer NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`rows` integer DEFAULT 0 NOT NULL,
	`client_errors` integer DEFAULT 0 NOT NULL,
	`server_errors` integer DEFAULT 0 NOT NULL,
	`cache_hits` integer DEFAULT 0 NOT NULL,
	`cache_misses` integer DEFAULT 0 NOT NULL,
	`cache_bypasses` integer DEFAULT 0 NOT NULL,
	`latency_ms_sum` real DEFAULT 0 NOT NULL,
	`latency_b0` integer DEFAULT 0 NOT NULL,
	`latency_b1` integer DEFAULT 0 NOT NULL,
	`latency_b2` integer DEFAULT 0 NOT NULL,
	`latency_b3` integer DEFAULT 0 NOT NULL,
	`latency_b4` integer DEFAULT 0 NOT NULL,
	`latency_b5` integer DEFAULT 0 NOT NULL,
	`latency_b6` integer DEFAULT 0 NOT NULL,
	`latency_b7` integer DEFAULT 0 NOT NULL,
	`latency_b8` integer DEFAULT 0 NOT NULL,
	`latency_b9` integer DEFAULT 0 NOT NULL,
	`latency_b10` integer DEFAULT 0 NOT NULL,
	`latency_b11` integer DEFAULT 0 NOT NULL,
	`latency_b12` integer DEFAULT 0 NOT NULL,
	`latency_b13` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workspace_id`, `model`, `alias`, `route`, `version`)
);
--> statement-breakpoint
CREATE TABLE `shadow_rollups` (
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
	`alias` text NOT NULL,
	`version` integer NOT NULL,
	`minute` integer NOT NULL,
	`output` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`rows` integer DEFAULT 0 NOT NULL,
	`agree_rows` integer DEFAULT 0 NOT NULL,
	`prob_diff_sum` real DEFAULT 0 NOT NULL,
	`prob_diff_max` real DEFAULT 0 NOT NULL,
	`elements` integer DEFAULT 0 NOT NULL,
	`equal_elements` integer DEFAULT 0 NOT NULL,
	`abs_diff_sum` real DEFAULT 0 NOT NULL,
	`abs_diff_max` real DEFAULT 0 NOT NULL,
	`rel_diff_sum` real DEFAULT 0 NOT NULL,
	`rel_diff_max` real DEFAULT 0 NOT NULL,
	`primary_ms_sum` real DEFAULT 0 NOT NULL,
	`shadow_ms_sum` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workspace_id`, `model`, `alias`, `version`, `minute`, `output`)
);
--> statement-breakpoint
CREATE INDEX `shadow_rollups_minute` ON `shadow_rollups` (`minute`);--> statement-breakpoint
CREATE TABLE `shadow_totals` (
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
	`alias` text NOT NULL,
	`version` integer NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`rows` integer DEFAULT 0 NOT NULL,
	`agree_rows` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workspace_id`, `model`, `alias`, `version`)
);
--> statement-breakpoint
ALTER TABLE `model_aliases` ADD `revision` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `model_aliases` ADD `guard` text;--> statement-breakpoint
ALTER TABLE `model_aliases` ADD `steps` text;--> statement-breakpoint
ALTER TABLE `model_aliases` ADD `step_minutes` integer;--> statement-breakpoint
ALTER TABLE `model_aliases` ADD `split_at` integer;--> statement-breakpoint
ALTER TABLE `model_aliases` ADD `weights_at` integer;--> statement-breakpoint
ALTER TABLE `model_aliases` ADD `rolled_back_at` integer;--> statement-breakpoint
ALTER TABLE `model_aliases` ADD `rollback` text;