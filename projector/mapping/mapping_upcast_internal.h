/* What mapping_upcast.c (loading and checking a mapping's "versions" and "upcasters") and
 * mapping_upcast_eval.c (applying them to events) share: the compiled upcasters. Not for the
 * rest of the program. */
#ifndef PROJECTOR_MAPPING_UPCAST_INTERNAL_H
#define PROJECTOR_MAPPING_UPCAST_INTERNAL_H

#include <jansson.h>

#include "jpath.h"
#include "mapping_internal.h"
#include "mapping_value.h"

/* A field written or removed by a step: "$.a.b" as its keys ("a", "b"). */
typedef struct up_field {
    char **keys;
    size_t n;
    char *text; /* as the mapping spells it */
} up_field_t;

typedef enum {
    UPV_VALUE,    /* a value of the mapping's language: path, literal, meta, sum, count, collect */
    UPV_MULTIPLY, /* {"multiply": [a, b]}: exact decimal product, as a decimal string */
    UPV_DIVIDE,   /* {"divide": [a, b]}: decimal quotient, as a decimal string */
    UPV_CONCAT,   /* {"concat": [a, b, ...]}: the values' texts joined */
} up_value_kind_t;

typedef struct up_value {
    up_value_kind_t kind;
    value_spec_t spec; /* UPV_VALUE */
    struct up_value *args;
    size_t nargs;
    int scale; /* UPV_MULTIPLY, UPV_DIVIDE: fractional digits of the result; -1: as many as exact */
    char *where;
} up_value_t;

typedef enum {
    UP_RENAME,  /* {"rename": "$.a", "to": "$.b"}: move a field (it must be there, unless optional)
                 */
    UP_DROP,    /* {"drop": "$.a"}: remove a field (absent: nothing to do) */
    UP_DEFAULT, /* {"default": "$.a", "value": V}: set a field that is missing */
    UP_SET,     /* {"set": "$.a", "value": V}: compute a field (replaces it) */
    UP_TYPE,    /* {"type": "OrderCreated"}: the event's type is renamed */
    UP_SPLIT,   /* {"split": [{"type": T, "steps": [...]}, ...]}: one event becomes parts */
} up_op_t;

typedef struct up_part up_part_t;

typedef struct up_step {
    up_op_t op;
    char *where; /* "$.upcasters.T.V[i]" (or a part's step within it) */
    up_field_t field, to;
    int optional;   /* UP_RENAME: a missing field is no error */
    up_value_t val; /* UP_DEFAULT, UP_SET */
    char *type;     /* UP_TYPE */
    up_part_t *parts;
    size_t nparts; /* UP_SPLIT */
} up_step_t;

struct up_part {
    char *type;
    up_step_t *steps;
    size_t nsteps;
};

/* The steps that turn version `version` of `type` into version + 1. */
typedef struct upcaster {
    char *type;
    long version;
    up_step_t *steps;
    size_t nsteps;
    char *where; /* "$.upcasters.T.V" */
} upcaster_t;

typedef struct up_current {
    char *type;
    long current;
} up_current_t;

struct mapping_upcast {
    char *version_header;      /* the Kafka header the version is read from, or NULL: */
    int version_registry;      /* 1: the version is the writer schema's under its subject */
    mapping_subject_t subject; /* with version_registry: how the subject is chosen */
    char *subject_name;        /* MAPPING_SUBJECT_NAMED: the subject */
    jpath_t *version_path;     /* where the version is read (NULL with a header or the registry) */
    up_field_t version_field;  /* the same, where the upcast result's version is written (n 0: it
                                * is not written) */
    long default_version;      /* the version of an event without one */
    up_current_t *types;       /* the versioned types and their current versions */
    size_t ntypes;
    upcaster_t *ups;
    size_t nups;
    up_field_t type_field; /* the event type's field (type renames write it); n 0: a header */
};

/* Parses the "versions" and "upcasters" of root (the mapping file found at pc->file) into
 * pc->m->upcast, checks them against root's "events" and "event_type", and takes both keys out
 * of root, so that the header's check of known fields does not see them. Returns 0 (nothing to
 * do when root has neither), or -1 after adding the problems to pc->errs. */
int mapping_upcast_parse(mapping_pctx_t *pc, json_t *root);
/* Frees u and what it owns; NULL is fine. */
void mapping_upcast_free(struct mapping_upcast *u);
/* The current version of type, or -1 when the type is not versioned. */
long mapping_upcast_current(const struct mapping_upcast *u, const char *type);
/* The upcaster of (type, version), or NULL. */
const upcaster_t *mapping_upcast_find(const struct mapping_upcast *u, const char *type,
                                      long version);

#endif
