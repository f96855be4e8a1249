/* `projector check` against the Schema Registry: for the mappings whose versions are the writer
 * schemas' (versions: {"registry": ...}), the schema of each upcaster's version is fetched
 * (GET /subjects/{subject}/versions/{version}, the subject as the mapping chooses it) and every
 * field the upcaster reads must be one that schema can have (mapping_upcast_fields()). */
#include "check_schemas.h"

#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "xalloc.h"

/* A subject's schema at a version, fetched once for the check. */
typedef struct fetched {
    char *subject;
    long version;
    registry_result_t r;
    char *type, *text;
} fetched_t;

typedef struct sctx {
    const mapping_t *m;
    mapping_subject_t how;
    const char *named;
    char **subjects; /* GET /subjects, once, when a strategy needs the record names */
    size_t nsubjects;
    int have_subjects;
    fetched_t *got;
    size_t ngot;
    int outage; /* the registry did not answer: errstr says why */
    char errstr[512];
    FILE *notes;
    char **noted; /* "type/version" of the upcasters noted unchecked */
    size_t nnoted;
} sctx_t;

/* The schema of subject at version: fetched once (NULL when there is none or no answer). */
static const fetched_t *schema_at(sctx_t *c, const char *subject, long version)
{
    for (size_t i = 0; i < c->ngot; i++)
        if (c->got[i].version == version && strcmp(c->got[i].subject, subject) == 0)
            return c->got[i].r == REGISTRY_OK ? &c->got[i] : NULL;
    c->got = xrealloc(c->got, (c->ngot + 1) * sizeof(*c->got));
    fetched_t *f = &c->got[c->ngot++];
    memset(f, 0, sizeof(*f));
    f->subject = xstrdup(subject);
    f->version = version;
    char err[512];
    f->r = registry_subject_schema(subject, version, &f->type, &f->text, err, sizeof(err));
    if (f->r == REGISTRY_UNREACHABLE && !c->outage) {
        c->outage = 1;
        snprintf(c->errstr, sizeof(c->errstr), "%s", err);
    } else if (f->r == REGISTRY_BAD) {
        fprintf(c->notes, "projector check: %s: %s\n", mapping_file(c->m), err);
    }
    return f->r == REGISTRY_OK ? f : NULL;
}

/* 1 when subject names a record of type (its full name, or the last part of it) after
 * prefix. */
static int record_subject(const char *subject, const char *prefix, const char *type)
{
    size_t pl = strlen(prefix);
    if (strncmp(subject, prefix, pl) != 0)
        return 0;
    const char *name = subject + pl, *dot = strrchr(name, '.');
    return strcmp(name, type) == 0 || (dot && strcmp(dot + 1, type) == 0);
}

/* The subjects version `version` of type may be read from, into out (up to max); how many. */
static size_t subjects_for(sctx_t *c, const char *type, const char **out, char buf[][512],
                           size_t max)
{
    size_t n = 0;
    if (c->how == MAPPING_SUBJECT_NAMED) {
        out[n++] = c->named;
        return n;
    }
    for (size_t t = 0; t < mapping_topic_count(c->m) && n < max; t++)
        if (c->how == MAPPING_SUBJECT_TOPIC || c->how == MAPPING_SUBJECT_ANY) {
            snprintf(buf[n], 512, "%s-value", mapping_topic(c->m, t));
            out[n] = buf[n];
            n++;
        }
    if (c->how == MAPPING_SUBJECT_TOPIC)
        return n;
    if (!c->have_subjects) {
        char err[512];
        c->have_subjects = 1;
        registry_result_t r = registry_subjects(&c->subjects, &c->nsubjects, err, sizeof(err));
        if (r == REGISTRY_UNREACHABLE && !c->outage) {
            c->outage = 1;
            snprintf(c->errstr, sizeof(c->errstr), "%s", err);
        }
    }
    for (size_t i = 0; i < c->nsubjects && n < max; i++) {
        int fits = 0;
        if (c->how == MAPPING_SUBJECT_RECORD || c->how == MAPPING_SUBJECT_ANY)
            fits |= record_subject(c->subjects[i], "", type);
        for (size_t t = 0; t < mapping_topic_count(c->m); t++) {
            snprintf(buf[n], 512, "%s-", mapping_topic(c->m, t));
            if (c->how == MAPPING_SUBJECT_TOPIC_RECORD || c->how == MAPPING_SUBJECT_ANY)
                fits |= record_subject(c->subjects[i], buf[n], type);
        }
        if (fits)
            out[n++] = c->subjects[i];
    }
    return n;
}

/* Notes, once per upcaster, that version of type has no schema under the subjects subj[0, ns). */
static void note_unchecked(sctx_t *c, const char *type, long version, const char **subj, size_t ns)
{
    char key[600];
    snprintf(key, sizeof(key), "%s/%ld", type, version);
    for (size_t i = 0; i < c->nnoted; i++)
        if (strcmp(c->noted[i], key) == 0)
            return;
    c->noted = xrealloc(c->noted, (c->nnoted + 1) * sizeof(char *));
    c->noted[c->nnoted++] = xstrdup(key);
    char list[1024] = "";
    for (size_t i = 0, at = 0; i < ns && at < sizeof(list); i++) {
        int w = snprintf(list + at, sizeof(list) - at, "%s%s", i ? ", " : "", subj[i]);
        at += w > 0 ? (size_t)w : 0;
    }
    if (!ns)
        fprintf(c->notes,
                "projector check: %s: the fields upcaster %s.%ld reads were not checked against "
                "a schema: the registry has no subject of a record named %s\n",
                mapping_file(c->m), type, version, type);
    else
        fprintf(c->notes,
                "projector check: %s: the fields upcaster %s.%ld reads were not checked against "
                "a schema: the registry has no version %ld of %s %s\n",
                mapping_file(c->m), type, version, version, ns > 1 ? "the subjects" : "subject",
                list);
}

/* mapping_schema_fn over the registry's schemas of version of type. */
static int has_field(void *ctx, const char *type, long version, const char *const *keys, size_t n,
                     char *why, size_t why_size)
{
    sctx_t *c = ctx;
    const char *subj[16];
    char buf[16][512];
    size_t ns = subjects_for(c, type, subj, buf, 16), found = 0;
    for (size_t i = 0; i < ns && !c->outage; i++) {
        const fetched_t *f = schema_at(c, subj[i], version);
        if (!f)
            continue;
        found++;
        if (registry_schema_has(f->type, f->text, type, keys, n) == 0) {
            snprintf(why, why_size, "the schema of subject %s version %ld has no such field",
                     f->subject, version);
            return 0;
        }
    }
    if (!found && !c->outage)
        note_unchecked(c, type, version, subj, ns);
    return found ? 1 : -1;
}

int check_schemas(const mapping_set_t *set, errlist_t *errs, FILE *notes, char *errstr,
                  size_t errstr_size)
{
    int rc = 0;
    for (size_t i = 0; set && i < mapping_set_count(set) && rc == 0; i++) {
        sctx_t c = {mapping_set_get(set, i), 0, NULL, NULL, 0, 0, NULL, 0, 0, "", notes, NULL, 0};
        if (!mapping_version_registry(c.m, &c.how, &c.named))
            continue;
        (void)mapping_upcast_fields(c.m, has_field, &c, errs);
        if (c.outage) {
            snprintf(errstr, errstr_size, "%s", c.errstr);
            rc = -1;
        }
        for (size_t k = 0; k < c.ngot; k++) {
            free(c.got[k].subject);
            free(c.got[k].type);
            free(c.got[k].text);
        }
        free(c.got);
        for (size_t k = 0; k < c.nsubjects; k++)
            free(c.subjects[k]);
        free(c.subjects);
        for (size_t k = 0; k < c.nnoted; k++)
            free(c.noted[k]);
        free(c.noted);
    }
    return rc;
}

int check_schemas_wanted(const mapping_set_t *set)
{
    mapping_subject_t how;
    const char *named;
    for (size_t i = 0; set && i < mapping_set_count(set); i++)
        if (mapping_version_registry(mapping_set_get(set, i), &how, &named))
            return 1;
    return 0;
}
