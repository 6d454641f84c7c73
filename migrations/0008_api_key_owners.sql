ALTER TABLE `api_keys` ADD `owner_id` text;--> statement-breakpoint
-- Keys made by a user or the admin act for their maker; keys made by a key act for that key's
-- owner (three rounds reach chains three keys deep; deeper chains are left null and refused).
UPDATE `api_keys` SET `owner_id` = `created_by` WHERE `created_by` NOT LIKE 'key\_%' ESCAPE '\';--> statement-breakpoint
UPDATE `api_keys` SET `owner_id` = (SELECT p.`owner_id` FROM `api_keys` p WHERE p.`id` = `api_keys`.`created_by`) WHERE `owner_id` IS NULL;--> statement-breakpoint
UPDATE `api_keys` SET `owner_id` = (SELECT p.`owner_id` FROM `api_keys` p WHERE p.`id` = `api_keys`.`created_by`) WHERE `owner_id` IS NULL;--> statement-breakpoint
UPDATE `api_keys` SET `owner_id` = (SELECT p.`owner_id` FROM `api_keys` p WHERE p.`id` = `api_keys`.`created_by`) WHERE `owner_id` IS NULL;
