/* The states of a rebuild (projector.rebuilds.state): one table, from which the enum, the name
 * lookups and the state lists of the SQL (the schema's CHECK and partial index, the queries for
 * the active rebuild) are all made, so that they cannot drift apart. */
#ifndef PROJECTOR_REBUILD_STATE_H
#define PROJECTOR_REBUILD_STATE_H

/* X(enum name, name in projector.rebuilds, active), in the enum's order, each under what the
 * state means. An active rebuild is still under way: a projection has at most one (the partial
 * unique index rebuilds_one_active). At most 8 states (REBUILD_STATE_SQL_JOIN_). */
#define REBUILD_STATES(X)                                                                          \
    /* recorded; waiting for an instance to take it up */                                          \
    X(REBUILD_REQUESTED, "requested", 1)                                                           \
    /* blue/green: the new generation is being built in its schema */                              \
    X(REBUILD_BUILDING, "building", 1)                                                             \
    /* blue/green: switched; the old generation is being dropped (or kept) */                      \
    X(REBUILD_SWITCHING, "switching", 1)                                                           \
    /* over (in place: the tables were reset and the replay runs live) */                          \
    X(REBUILD_DONE, "done", 0)                                                                     \
    /* cancelled before the switch; the partial generation was dropped */                          \
    X(REBUILD_CANCELLED, "cancelled", 0)                                                           \
    /* could not be carried out (see error) */                                                     \
    X(REBUILD_FAILED, "failed", 0)

/* A rebuild's lifecycle (see REBUILD_STATES for what each state means). */
#define REBUILD_STATE_ENUM_(e, name, active) e,
typedef enum { REBUILD_STATES(REBUILD_STATE_ENUM_) } rebuild_state_t;
#undef REBUILD_STATE_ENUM_

/* The state's name in projector.rebuilds ("building"); a static string. */
const char *rebuild_state_name(rebuild_state_t s);
/* The state of a name; REBUILD_FAILED for an unknown one. */
rebuild_state_t rebuild_state_parse(const char *name);
/* 1 when a rebuild in state s is still under way (requested, building, switching), else 0. */
int rebuild_state_active(rebuild_state_t s);

/* String literals for SQL text, made from the table: every state as a list of SQL literals,
 * "'requested', 'building', ..., 'failed'" (for the CHECK of the column), and the active ones in
 * parentheses, "('requested', 'building', 'switching')" (for `state IN REBUILD_ACTIVE_SQL`). */
#define REBUILD_STATES_SQL REBUILD_STATE_SQL_JOIN_(REBUILD_STATES(REBUILD_STATE_SQL_EVERY_))
#define REBUILD_ACTIVE_SQL                                                                         \
    "(" REBUILD_STATE_SQL_JOIN_(REBUILD_STATES(REBUILD_STATE_SQL_ACTIVE_)) ")"

/* How those are made: each row gives ", <literal>" (the active ones only, for the second), and
 * the join drops the first comma and puts ", " inside the strings between the rest. */
#define REBUILD_STATE_SQL_EVERY_(e, name, active) , "'" name "'"
#define REBUILD_STATE_SQL_ACTIVE_(e, name, active) REBUILD_STATE_SQL_IF_##active(, "'" name "'")
#define REBUILD_STATE_SQL_IF_1(...) __VA_ARGS__
#define REBUILD_STATE_SQL_IF_0(...)
#define REBUILD_STATE_SQL_JOIN_(...) REBUILD_STATE_SQL_JOIN_REST_(__VA_ARGS__)
#define REBUILD_STATE_SQL_JOIN_REST_(empty, ...)                                                   \
    REBUILD_STATE_SQL_CAT_(REBUILD_STATE_SQL_JOIN_, REBUILD_STATE_SQL_COUNT_(__VA_ARGS__))         \
    (__VA_ARGS__)
#define REBUILD_STATE_SQL_COUNT_(...) REBUILD_STATE_SQL_NTH_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define REBUILD_STATE_SQL_NTH_(a1, a2, a3, a4, a5, a6, a7, a8, n, ...) n
#define REBUILD_STATE_SQL_CAT_(a, b) REBUILD_STATE_SQL_CAT2_(a, b)
#define REBUILD_STATE_SQL_CAT2_(a, b) a##b
#define REBUILD_STATE_SQL_JOIN_1(a) a
#define REBUILD_STATE_SQL_JOIN_2(a, ...) a ", " REBUILD_STATE_SQL_JOIN_1(__VA_ARGS__)
#define REBUILD_STATE_SQL_JOIN_3(a, ...) a ", " REBUILD_STATE_SQL_JOIN_2(__VA_ARGS__)
#define REBUILD_STATE_SQL_JOIN_4(a, ...) a ", " REBUILD_STATE_SQL_JOIN_3(__VA_ARGS__)
#define REBUILD_STATE_SQL_JOIN_5(a, ...) a ", " REBUILD_STATE_SQL_JOIN_4(__VA_ARGS__)
#define REBUILD_STATE_SQL_JOIN_6(a, ...) a ", " REBUILD_STATE_SQL_JOIN_5(__VA_ARGS__)
#define REBUILD_STATE_SQL_JOIN_7(a, ...) a ", " REBUILD_STATE_SQL_JOIN_6(__VA_ARGS__)
#define REBUILD_STATE_SQL_JOIN_8(a, ...) a ", " REBUILD_STATE_SQL_JOIN_7(__VA_ARGS__)

#endif
