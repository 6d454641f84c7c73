CREATE TABLE `drift_baselines` (
	`version_id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
	`version` integer NOT NULL,
	`source` text NOT NULL,
	`status` text NOT NULL,
	`target_rows` integer NOT NULL,
	`rows` integer DEFAULT 0 NOT NULL,
	`features` text,
	`created_at` integer NOT NULL,
	`ready_at` integer
);
--> statement-breakpoint
CREATE TABLE `drift_bins` (
	`version_id` text NOT NULL,
	`hour` integer NOT NULL,
	`feature` integer NOT NULL,
	`bin` integer NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`version_id`, `hour`, `feature`, `bin`)
);
--> statement-breakpoint
CREATE INDEX `drift_bins_hour` ON `drift_bins` (`hour`);--> statement-breakpoint
CREATE TABLE `drift_captured_rows` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`version_id` text NOT NULL,
	`values` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `drift_captured_rows_version` ON `drift_captured_rows` (`version_id`);--> statement-breakpoint
CREATE TABLE `drift_reports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
	`version` integer NOT NULL,
	`version_id` text NOT NULL,
	`status` text NOT NULL,
	`rows` integer NOT NULL,
	`window_hours` integer NOT NULL,
	`features` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `drift_reports_version` ON `drift_reports` (`version_id`,`id`);--> statement-breakpoint
CREATE TABLE `metric_rollups` (
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
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
	`batch_rows_ok` integer DEFAULT 0 NOT NULL,
	`batch_rows_failed` integer DEFAULT 0 NOT NULL,
	`loads` integer DEFAULT 0 NOT NULL,
	`load_ms_sum` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workspace_id`, `model`, `version`, `minute`)
);
--> statement-breakpoint
CREATE INDEX `metric_rollups_minute` ON `metric_rollups` (`minute`);--> statement-breakpoint
CREATE TABLE `metric_totals` (
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
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
	`batch_rows_ok` integer DEFAULT 0 NOT NULL,
	`batch_rows_failed` integer DEFAULT 0 NOT NULL,
	`loads` integer DEFAULT 0 NOT NULL,
	`load_ms_sum` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workspace_id`, `model`, `version`)
);
--> statement-breakpoint
CREATE TABLE `prediction_feedback` (
	`prediction_id` text NOT NULL,
	`row` integer NOT NULL,
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
	`version` integer NOT NULL,
	`actual` text NOT NULL,
	`predicted` text,
	`predicted_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`prediction_id`, `row`)
);
--> statement-breakpoint
CREATE INDEX `prediction_feedback_model` ON `prediction_feedback` (`workspace_id`,`model`,`predicted_at`);--> statement-breakpoint
CREATE TABLE `prediction_logs` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`model` text NOT NULL,
	`version` integer NOT NULL,
	`request_id` text NOT NULL,
	`inputs` text NOT NULL,
	`outputs` text NOT NULL,
	`predicted` text,
	`rows` integer NOT NULL,
	`cache` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `prediction_logs_model` ON `prediction_logs` (`workspace_id`,`model`,`created_at`);--> statement-breakpoint
ALTER TABLE `models` ADD `log_sample_rate` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `models` ADD `drift_psi_threshold` real DEFAULT 0.2 NOT NULL;--> statement-breakpoint
ALTER TABLE `models` ADD `drift_ks_threshold` real DEFAULT 0.1 NOT NULL;--> statement-breakpoint
ALTER TABLE `models` ADD `drift_window_hours` integer DEFAULT 24 NOT NULL;