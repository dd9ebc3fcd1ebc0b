/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef JSON_POS_H
#define JSON_POS_H 1

/* Where each value of a JSON text starts.
 *
 * jansson parses JSON into values that do not remember where they came
 * from.  A json_pos_index scans the same text once more and records, for
 * every value, its JSON pointer (RFC 6901: "", "/tenants", "/tenants/0/name")
 * and the line and column at which the value starts.  For an object
 * member, "PATH/KEY#" gives the position of the key itself.
 *
 * The scanner assumes text that jansson already accepted; on text that is
 * not valid JSON it stops early and knows fewer paths, never crashes.
 * Lines and columns are 1-based; columns count characters, not bytes. */

#include <stdbool.h>
#include <stddef.h>

struct json_pos_index;

struct json_pos_index *json_pos_index_create(const char *text, size_t len);
void json_pos_index_destroy(struct json_pos_index *);
bool json_pos_lookup(const struct json_pos_index *, const char *path,
                     int *line, int *column);

#endif /* json-pos.h */
