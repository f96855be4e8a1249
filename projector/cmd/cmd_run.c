/* `projector run`, `serve` and `migrate`: settings in, the service started. */
#include "cmd_run.h"

#include "service.h"

int cmd_run_main(const cmd_args_command_t *c, int argc, char **argv)
{
    return cmd_args_run_plain(c, argc, argv, service_run);
}

int cmd_run_serve_main(const cmd_args_command_t *c, int argc, char **argv)
{
    return cmd_args_run_plain(c, argc, argv, service_serve);
}

int cmd_run_migrate_main(const cmd_args_command_t *c, int argc, char **argv)
{
    return cmd_args_run_plain(c, argc, argv, service_migrate);
}
