/*
 * Copyright (c) 2026 The Bulkhead authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>
#include "policies/json-pos.h"

#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "util.h"

/* A position in the text. */
struct json_pos {
    int line;                   /* 1-based line. */
    int column;                 /* 1-based column, in characters. */
};

/* Maps JSON pointers to the positions of their values. */
struct json_pos_index {
    struct shash positions;     /* Path -> struct json_pos *. */
};

/* The scanner's state. */
struct json_pos_scanner {
    const char *p;              /* Next byte to read. */
    const char *end;            /* One past the last byte. */
    int line;                   /* Line of 'p'. */
    int column;                 /* Column of 'p'. */
    bool error;                 /* Stop: the text is not valid JSON. */
    struct json_pos_index *index;  /* Where positions go. */
};

/* Advances 's' by one byte, keeping line and column.  A UTF-8
 * continuation byte belongs to the character before it, so moving onto one
 * keeps the column. */
static void
scan_advance(struct json_pos_scanner *s)
{
    bool newline = *s->p == '\n';

    s->p++;
    if (newline) {
        s->line++;
        s->column = 1;
    } else if (s->p >= s->end || (*s->p & 0xc0) != 0x80) {
        s->column++;
    }
}

/* Skips white space. */
static void
scan_space(struct json_pos_scanner *s)
{
    while (s->p < s->end && strchr(" \t\r\n", *s->p)) {
        scan_advance(s);
    }
}

/* Records that the value at 'path' starts at the current position. */
static void
scan_record(struct json_pos_scanner *s, const char *path)
{
    struct json_pos *pos = xmalloc(sizeof *pos);
    pos->line = s->line;
    pos->column = s->column;
    free(shash_replace(&s->index->positions, path, pos));
}

/* Scans a string starting at '"'.  If 'out' is nonnull, appends the
 * string's value, escaped as a JSON pointer token ('~' as "~0", '/' as
 * "~1"), to it.  Escapes other than \" and \\ are kept as written, which is
 * enough to tell keys apart. */
static void
scan_string(struct json_pos_scanner *s, struct ds *out)
{
    scan_advance(s);
    while (s->p < s->end && *s->p != '"') {
        char c = *s->p;
        if (c == '\\' && s->p + 1 < s->end) {
            scan_advance(s);
            c = *s->p;
            if (c != '"' && c != '\\' && out) {
                ds_put_char(out, '\\');
            }
        }
        if (out) {
            if (c == '~') {
                ds_put_cstr(out, "~0");
            } else if (c == '/') {
                ds_put_cstr(out, "~1");
            } else {
                ds_put_char(out, c);
            }
        }
        scan_advance(s);
    }
    if (s->p >= s->end) {
        s->error = true;
        return;
    }
    scan_advance(s);
}

static void scan_value(struct json_pos_scanner *, struct ds *path);

/* Scans an object or an array starting at '{' or '['; 'path' is its
 * path. */
static void
scan_container(struct json_pos_scanner *s, struct ds *path)
{
    bool is_object = *s->p == '{';
    char close = is_object ? '}' : ']';
    size_t base = path->length;

    scan_advance(s);
    for (size_t i = 0; !s->error; i++) {
        scan_space(s);
        if (s->p >= s->end) {
            s->error = true;
            break;
        }
        if (*s->p == close) {
            scan_advance(s);
            break;
        }
        if (i > 0) {
            if (*s->p != ',') {
                s->error = true;
                break;
            }
            scan_advance(s);
            scan_space(s);
        }
        ds_truncate(path, base);
        ds_put_char(path, '/');
        if (is_object) {
            int line = s->line, column = s->column;
            if (s->p >= s->end || *s->p != '"') {
                s->error = true;
                break;
            }
            scan_string(s, path);
            ds_put_char(path, '#');
            struct json_pos_scanner key = *s;
            key.line = line;
            key.column = column;
            scan_record(&key, ds_cstr(path));
            ds_chomp(path, '#');
            scan_space(s);
            if (s->p >= s->end || *s->p != ':') {
                s->error = true;
                break;
            }
            scan_advance(s);
            scan_space(s);
        } else {
            ds_put_format(path, "%"PRIuSIZE, i);
        }
        scan_value(s, path);
    }
    ds_truncate(path, base);
}

/* Scans one value of any type at the current position, whose path is
 * 'path'. */
static void
scan_value(struct json_pos_scanner *s, struct ds *path)
{
    scan_space(s);
    if (s->p >= s->end) {
        s->error = true;
        return;
    }
    scan_record(s, ds_cstr(path));
    if (*s->p == '{' || *s->p == '[') {
        scan_container(s, path);
    } else if (*s->p == '"') {
        scan_string(s, NULL);
    } else {
        /* A number, true, false or null: up to the next delimiter. */
        while (s->p < s->end && !strchr(" \t\r\n,]}", *s->p)) {
            scan_advance(s);
        }
    }
}

/* Scans the 'len' bytes of JSON text at 'text' and returns the index of
 * its values' positions.  The caller must destroy it with
 * json_pos_index_destroy(). */
struct json_pos_index *
json_pos_index_create(const char *text, size_t len)
{
    struct json_pos_index *index = xmalloc(sizeof *index);
    shash_init(&index->positions);

    struct json_pos_scanner s = {
        .p = text, .end = text + len, .line = 1, .column = 1,
        .index = index,
    };
    struct ds path = DS_EMPTY_INITIALIZER;
    scan_value(&s, &path);
    ds_destroy(&path);
    return index;
}

/* Frees 'index' and everything in it.  Accepts NULL. */
void
json_pos_index_destroy(struct json_pos_index *index)
{
    if (index) {
        shash_destroy_free_data(&index->positions);
        free(index);
    }
}

/* Looks up the position of the value at 'path'.  On success stores it in
 * '*line' and '*column' and returns true; otherwise returns false. */
bool
json_pos_lookup(const struct json_pos_index *index, const char *path,
                int *line, int *column)
{
    const struct json_pos *pos = shash_find_data(&index->positions, path);
    if (pos) {
        *line = pos->line;
        *column = pos->column;
        return true;
    }
    return false;
}
