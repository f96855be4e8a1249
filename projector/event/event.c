/* Names of the event stages; a batch's positions. */
#include "event.h"

#include <string.h>

static const struct {
    const char *name;
    int sticky;
} stages[] = {
    [EVENT_STAGE_NONE] = {"", 0},       [EVENT_STAGE_DECODE] = {"decode", 1},
    [EVENT_STAGE_MAP] = {"map", 0},     [EVENT_STAGE_DOCUMENT] = {"map", 1},
    [EVENT_STAGE_APPLY] = {"apply", 0}, [EVENT_STAGE_PARKED] = {"parked", 1},
    [EVENT_STAGE_INDEX] = {"index", 1}, [EVENT_STAGE_UPCAST] = {"upcast", 1},
};

const char *event_stage_name(event_stage_t stage)
{
    return (unsigned)stage < sizeof(stages) / sizeof(stages[0]) ? stages[stage].name : "";
}

int event_stage_sticky(event_stage_t stage)
{
    return (unsigned)stage < sizeof(stages) / sizeof(stages[0]) && stages[stage].sticky;
}

void event_kill(event_t *e, event_stage_t stage, const char *error)
{
    e->state = EVENT_DEAD;
    e->stage = stage;
    e->error = error;
}

/* The entry of pos[0, npos) for (topic, partition), or NULL; the latest first, as a batch's
 * events mostly come in runs of one partition. */
static event_position_t *position_of(event_position_t *pos, size_t npos, const char *topic,
                                     int32_t partition)
{
    for (size_t k = npos; k > 0; k--)
        if (pos[k - 1].partition == partition && strcmp(pos[k - 1].topic, topic) == 0)
            return &pos[k - 1];
    return NULL;
}

event_stamp_t event_positions_stamp(const event_t *events, size_t n, event_position_t *pos,
                                    size_t *npos, event_cut_fn cut_of, void *ctx, size_t *at)
{
    *npos = 0;
    for (size_t i = 0; i < n; i++) {
        const mapping_event_t *ev = &events[i].ev;
        event_position_t *p = position_of(pos, *npos, ev->topic, ev->partition);
        if (!p) {
            int64_t cut;
            if (cut_of(ctx, ev->topic, ev->partition, &cut) != 0)
                return EVENT_STAMP_UNASSIGNED;
            p = &pos[(*npos)++];
            memset(p, 0, sizeof(*p));
            p->topic = ev->topic;
            p->partition = ev->partition;
            p->expected = cut;
            p->next = cut;
        }
        if (p->next >= 0 && ev->offset < p->next) {
            *at = i;
            return EVENT_STAMP_AGAIN;
        }
        p->next = ev->offset + 1;
    }
    return EVENT_STAMP_OK;
}
