-- Version backends (issue 18): what runs a version, and the remote server a `remote` one calls.
ALTER TABLE `model_versions` ADD `backend` text DEFAULT 'isolate' NOT NULL;--> statement-breakpoint
ALTER TABLE `model_versions` ADD `remote` text;
