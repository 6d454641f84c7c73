/** Model and alias names: safe in URLs, R2 keys, metric labels and shell commands alike. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const NAME_RULE =
  'names use lowercase letters, digits, "-", "_" and ".", are 1 to 64 characters long and start with a letter or digit';

/** `latest` is implicit, and an all-digit alias would be read as a version number. */
export const RESERVED_ALIASES = new Set(['latest']);
export const ALIAS_RULE = `${NAME_RULE}; an alias is not only digits and is not "latest"`;

export const isAliasName = (name: string) =>
  NAME_PATTERN.test(name) && !/^\d+$/.test(name) && !RESERVED_ALIASES.has(name);
