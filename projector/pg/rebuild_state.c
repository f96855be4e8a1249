/* The states of a rebuild: their names and whether they are active, from REBUILD_STATES. */
#include "rebuild_state.h"

#include <string.h>

static const struct {
    const char *name;
    int active;
} states[] = {
#define REBUILD_STATE_ROW_(e, name, active) [e] = {name, active},
    REBUILD_STATES(REBUILD_STATE_ROW_)
#undef REBUILD_STATE_ROW_
};

const char *rebuild_state_name(rebuild_state_t s)
{
    return states[s].name;
}

rebuild_state_t rebuild_state_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(states[i].name, name) == 0)
            return (rebuild_state_t)i;
    return REBUILD_FAILED;
}

int rebuild_state_active(rebuild_state_t s)
{
    return states[s].active;
}
