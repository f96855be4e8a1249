/* Names of the event stages. */
#include "event.h"

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
