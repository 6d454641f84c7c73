CREATE TABLE `alert_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rule_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`metric` text NOT NULL,
	`condition` text NOT NULL,
	`threshold` real NOT NULL,
	`value` real,
	`samples` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_events_model` ON `alert_events` (`workspace_id`,`model`,`id`);--> statement-breakpoint
CREATE INDEX `alert_events_created` ON `alert_events` (`created_at`);--> statement-breakpoint
CREATE TABLE `alert_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
	`name` text NOT NULL,
	`metric` text NOT NULL,
	`condition` text NOT NULL,
	`threshold` real NOT NULL,
	`window_minutes` integer NOT NULL,
	`min_samples` integer NOT NULL,
	`version` text,
	`enabled` integer DEFAULT true NOT NULL,
	`state` text DEFAULT 'ok' NOT NULL,
	`last_value` real,
	`last_samples` integer,
	`last_evaluated_at` integer,
	`fired_at` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_rules_model` ON `alert_rules` (`workspace_id`,`model`);--> statement-breakpoint
CREATE TABLE `prediction_export_days` (
	`day` text PRIMARY KEY NOT NULL,
	`files` integer NOT NULL,
	`rows` integer NOT NULL,
	`finished_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `request_failures` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`model` text,
	`version` integer,
	`request_id` text NOT NULL,
	`method` text NOT NULL,
	`route` text,
	`status` integer NOT NULL,
	`code` text NOT NULL,
	`message` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `request_failures_workspace` ON `request_failures` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `request_failures_model` ON `request_failures` (`workspace_id`,`model`,`created_at`);--> statement-breakpoint
ALTER TABLE `drift_reports` ADD `psi_threshold` real;--> statement-breakpoint
ALTER TABLE `drift_reports` ADD `ks_threshold` real;--> statement-breakpoint
CREATE INDEX `prediction_logs_created` ON `prediction_logs` (`created_at`);