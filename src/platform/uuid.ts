const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is a UUID: Herald's ids are, so `:id` and CLI arguments can tell them from names. */
export const isUuid = (value: string): boolean => UUID.test(value);
