CREATE TABLE `model_aliases` (
	`model_id` text NOT NULL,
	`alias` text NOT NULL,
	`version_id` text NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`model_id`, `alias`),
	FOREIGN KEY (`model_id`) REFERENCES `models`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`version_id`) REFERENCES `model_versions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `model_versions` (
	`id` text PRIMARY KEY NOT NULL,
	`model_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`version` integer NOT NULL,
	`sha256` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`artifact_key` text NOT NULL,
	`signature` text NOT NULL,
	`onnx` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`tags` text DEFAULT '{}' NOT NULL,
	`metrics` text DEFAULT '{}' NOT NULL,
	`feature_names` text,
	`class_labels` text,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`archived_at` integer,
	FOREIGN KEY (`model_id`) REFERENCES `models`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `model_versions_number` ON `model_versions` (`model_id`,`version`);--> statement-breakpoint
CREATE UNIQUE INDEX `model_versions_sha256` ON `model_versions` (`model_id`,`sha256`);--> statement-breakpoint
CREATE INDEX `model_versions_workspace` ON `model_versions` (`workspace_id`);--> statement-breakpoint
CREATE TABLE `models` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`task` text DEFAULT 'other' NOT NULL,
	`tags` text DEFAULT '{}' NOT NULL,
	`feature_names` text,
	`class_labels` text,
	`cache_enabled` integer DEFAULT true NOT NULL,
	`cache_ttl_seconds` integer DEFAULT 300 NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`archived_at` integer,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `models_workspace_name` ON `models` (`workspace_id`,`name`);--> statement-breakpoint
CREATE TABLE `workspaces` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
