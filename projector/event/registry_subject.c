/* Which subject's version is an event's: the subject naming strategies of Confluent's
 * serializers (TopicNameStrategy <topic>-value, RecordNameStrategy <record full name>,
 * TopicRecordNameStrategy <topic>-<record full name>) over the subjects and versions a schema id
 * is registered under. */
#include "registry.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "xalloc.h"

char *registry_record_name(const char *type, const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    char *out = NULL;
    if (strcmp(type, "JSON") == 0) {
        const char *title = json_string_value(json_object_get(j, "title"));
        out = title && *title ? xstrdup(title) : NULL;
    } else if (strcmp(type, "AVRO") == 0 && json_is_string(json_object_get(j, "type")) &&
               strcmp(json_string_value(json_object_get(j, "type")), "record") == 0) {
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *ns = json_string_value(json_object_get(j, "namespace"));
        if (name && *name) {
            size_t len = strlen(name) + (ns ? strlen(ns) : 0) + 2;
            out = xmalloc(len);
            if (strchr(name, '.') || !ns || !*ns)
                snprintf(out, len, "%s", name);
            else
                snprintf(out, len, "%s.%s", ns, name);
        }
    }
    json_decref(j);
    return out;
}

/* The subjects of the id, "a (version 1), b (version 3)", into buf. */
static void list_pairs(char *buf, size_t size, const registry_subject_version_t *pairs, size_t n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && at < size; i++) {
        int w = snprintf(buf + at, size - at, "%s%s (version %ld)", i ? ", " : "", pairs[i].subject,
                         pairs[i].version);
        at += w > 0 ? (size_t)w : 0;
    }
    if (!n)
        snprintf(buf, size, "none");
}

/* The subjects how considers for an event of topic with record (NULL: none), into cand[]
 * (up to 3, each of room 512, "" when not formed); returns how many. */
static size_t candidates(mapping_subject_t how, const char *named, const char *topic,
                         const char *record, char cand[3][512])
{
    size_t k = 0;
    if (how == MAPPING_SUBJECT_NAMED) {
        snprintf(cand[k++], 512, "%s", named);
        return k;
    }
    if (how == MAPPING_SUBJECT_ANY || how == MAPPING_SUBJECT_TOPIC)
        snprintf(cand[k++], 512, "%s-value", topic);
    if ((how == MAPPING_SUBJECT_ANY || how == MAPPING_SUBJECT_RECORD) && record)
        snprintf(cand[k++], 512, "%s", record);
    if ((how == MAPPING_SUBJECT_ANY || how == MAPPING_SUBJECT_TOPIC_RECORD) && record)
        snprintf(cand[k++], 512, "%s-%s", topic, record);
    return k;
}

/* The strategy that names subject s of cand (in candidates()' order for how), as the mapping
 * spells it. */
static const char *strategy_of(mapping_subject_t how, size_t k, const char *record)
{
    static const char *const any[] = {"{\"strategy\": \"topic\"}", "{\"strategy\": \"record\"}",
                                      "{\"strategy\": \"topic-record\"}"};
    if (how != MAPPING_SUBJECT_ANY)
        return "";
    if (!record)
        return any[0];
    return k < 3 ? any[k] : "";
}

/* errstr: no pair of the id under the candidates cand[0, nc). */
static void say_none(int32_t id, const registry_subject_version_t *pairs, size_t n,
                     mapping_subject_t how, const char *record, char cand[3][512], size_t nc,
                     char *errstr, size_t errstr_size)
{
    char *all = xmalloc(4096), which[1600] = "";
    list_pairs(all, 4096, pairs, n);
    for (size_t k = 0, at = 0; k < nc && at < sizeof(which); k++) {
        int w = snprintf(which + at, sizeof(which) - at, "%s%s", k ? ", " : "", cand[k]);
        at += w > 0 ? (size_t)w : 0;
    }
    snprintf(errstr, errstr_size,
             "schema id %d has no version under %s %s%s (its subjects: %s): set "
             "$.versions.registry to {\"subject\": ...} naming the subject whose versions "
             "the upcasters count, or {\"strategy\": ...}",
             id, nc > 1 ? "the subjects" : "subject", which,
             record || how == MAPPING_SUBJECT_TOPIC || how == MAPPING_SUBJECT_NAMED
                 ? ""
                 : " (the schema has no record name)",
             all);
    free(all);
}

/* errstr: found pairs (hit[0, found)) fit the candidates cand[0, nc). */
static void say_ambiguous(int32_t id, const registry_subject_version_t *pairs, const size_t *hit,
                          size_t found, mapping_subject_t how, const char *record,
                          char cand[3][512], size_t nc, char *errstr, size_t errstr_size)
{
    char *which = xmalloc(4096);
    which[0] = '\0';
    for (size_t f = 0, at = 0; f < found && at < 4096; f++) {
        const registry_subject_version_t *p = &pairs[hit[f]];
        size_t k = 0;
        while (k < nc && strcmp(cand[k], p->subject) != 0)
            k++;
        const char *st = strategy_of(how, k, record);
        int w = snprintf(which + at, 4096 - at, "%s%s version %ld%s%s%s", f ? ", " : "", p->subject,
                         p->version, *st ? " (" : "", st, *st ? ")" : "");
        at += w > 0 ? (size_t)w : 0;
    }
    snprintf(errstr, errstr_size,
             "schema id %d is registered under %zu subjects this event's version could be "
             "read from: %s: set $.versions.registry to the strategy, or to {\"subject\": ...}, "
             "that names one",
             id, found, which);
    free(which);
}

registry_choice_t registry_choose_subject(int32_t id, const registry_subject_version_t *pairs,
                                          size_t n, mapping_subject_t how, const char *named,
                                          const char *topic, const char *record, long *version,
                                          char *errstr, size_t errstr_size)
{
    char cand[3][512];
    size_t nc = candidates(how, named, topic, record, cand);
    size_t found = 0, hit[8];
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nc; k++)
            if (strcmp(pairs[i].subject, cand[k]) == 0 && found < 8) {
                hit[found++] = i;
                *version = pairs[i].version;
            }
    if (found == 0) {
        say_none(id, pairs, n, how, record, cand, nc, errstr, errstr_size);
        return REGISTRY_NO_SUBJECT;
    }
    if (found > 1) {
        say_ambiguous(id, pairs, hit, found, how, record, cand, nc, errstr, errstr_size);
        return REGISTRY_AMBIGUOUS;
    }
    return REGISTRY_CHOSEN;
}
