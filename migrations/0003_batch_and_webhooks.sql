CREATE TABLE `job_chunks` (
	`job_id` text NOT NULL,
	`idx` integer NOT NULL,
	`first_row` integer NOT NULL,
	`row_count` integer NOT NULL,
	`byte_offset` integer NOT NULL,
	`byte_length` integer NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`rows_ok` integer DEFAULT 0 NOT NULL,
	`rows_failed` integer DEFAULT 0 NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`error_sample` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`job_id`, `idx`)
);
--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`model_id` text NOT NULL,
	`model_name` text NOT NULL,
	`version_id` text NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`input_key` text NOT NULL,
	`input_source` text NOT NULL,
	`chunk_size` integer NOT NULL,
	`outputs` text,
	`include_input` integer DEFAULT false NOT NULL,
	`rows_total` integer,
	`chunks_total` integer,
	`error` text,
	`webhook_url` text,
	`webhook_secret` text,
	`trigger_id` text,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `jobs_workspace` ON `jobs` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_status` ON `jobs` (`status`);--> statement-breakpoint
CREATE TABLE `trigger_deliveries` (
	`trigger_id` text NOT NULL,
	`webhook_id` text NOT NULL,
	`job_id` text NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`trigger_id`, `webhook_id`)
);
--> statement-breakpoint
CREATE INDEX `trigger_deliveries_received` ON `trigger_deliveries` (`received_at`);--> statement-breakpoint
CREATE TABLE `triggers` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`model_name` text NOT NULL,
	`version_ref` text,
	`chunk_size` integer NOT NULL,
	`outputs` text,
	`include_input` integer DEFAULT false NOT NULL,
	`secret` text NOT NULL,
	`previous_secret` text,
	`previous_secret_expires_at` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `triggers_workspace` ON `triggers` (`workspace_id`);--> statement-breakpoint
CREATE TABLE `uploads` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`key` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`filename` text,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `uploads_workspace` ON `uploads` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`endpoint_id` text,
	`job_id` text,
	`event` text NOT NULL,
	`payload` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`last_attempt_at` integer,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_endpoint` ON `webhook_deliveries` (`endpoint_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`secret` text NOT NULL,
	`previous_secret` text,
	`previous_secret_expires_at` integer,
	`enabled` integer DEFAULT true NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_endpoints_workspace` ON `webhook_endpoints` (`workspace_id`);