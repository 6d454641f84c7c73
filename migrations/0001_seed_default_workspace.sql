-- The workspace the bootstrap administrator works in unless it names another one.
INSERT OR IGNORE INTO `workspaces` (`id`, `name`, `created_at`) VALUES ('ws_default', 'default', 0);
